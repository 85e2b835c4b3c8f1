"""End to end in a real headless Chromium against a real uvicorn server: what a coach does on the web page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import Seeded, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class TestCoachInTheBrowser:
    def test_a_wrong_key_cannot_sign_in(self, live_server: Seeded, page: Any) -> None:
        sign_in(page, live_server.base_url, "wm_this-is-not-a-key")
        assert page.get_by_role("alert").inner_text().startswith("Aanmelden mislukt")
        assert not [c for c in page.context.cookies() if c["name"] == "wm_session"]
        page.goto(live_server.base_url + "/")
        assert page.url.startswith(live_server.base_url + "/aanmelden")

    def test_sign_in_worklist_candidate_matches_propose_and_see_the_proposal(
        self, live_server: Seeded, page: Any
    ) -> None:
        base = live_server.base_url
        sign_in(page, base, live_server.keys["coach_a"])
        assert page.url == base + "/"
        cookie = next(c for c in page.context.cookies() if c["name"] == "wm_session")
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict"

        # The worklist: own candidates only; search by name narrows it.
        table = page.get_by_role("table")
        assert table.get_by_role("link", name="Fatima El Idrissi").is_visible()
        assert table.get_by_role("link", name="Jan Bosch").is_visible()
        assert "Sanne" not in table.inner_text()
        page.get_by_label("Zoek op naam of klantnummer").fill("bosch")
        page.get_by_role("button", name="Filteren").click()
        assert "Fatima" not in page.get_by_role("table").inner_text()
        page.get_by_role("link", name="Wissen").click()

        # The candidate page: ranked vacancies with per-factor score bars and their explanation.
        page.get_by_role("link", name="Fatima El Idrissi").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Fatima El Idrissi"
        matches = page.locator("ol.match-list > li.match")
        assert matches.count() >= 2
        first = matches.first
        assert first.locator("svg.bar rect.seg").count() >= 3
        assert "Score" in (first.locator("svg.bar").get_attribute("aria-label") or "")
        assert first.get_by_role("table").is_visible()  # the first explanation is open
        titles = [matches.nth(i).locator("h3").inner_text() for i in range(matches.count())]
        assert "Orderpicker XL Businesspark" in titles
        assert "Reachtruckchauffeur" in titles

        # Propose the best one, with a note.
        vacancy_title = first.locator("h3").inner_text()
        first.get_by_text("Voordragen…").click()
        first.get_by_label("Notitie bij de voordracht").fill("Gemotiveerd, heeft VCA-basis.")
        first.get_by_role("button", name="Voordragen").click()
        assert "Voorgedragen" in page.get_by_role("status").first.inner_text()
        assert "status: voorgedragen" in page.locator("li.match").first.inner_text()

        # The vacancy page lists the proposal with the candidate's name and its status.
        page.get_by_role("link", name="Bekijk de vacature en haar voordrachten").click()
        assert page.get_by_role("heading", level=1).inner_text() == vacancy_title
        proposals = page.locator("table.proposals")
        assert "Fatima El Idrissi" in proposals.inner_text()
        assert "voorgedragen" in proposals.inner_text()
        assert "Gemotiveerd, heeft VCA-basis." in proposals.inner_text()
        assert (
            page.locator("section", has=page.get_by_role("heading", name=re.compile("Passende kandidaten")))
            .get_by_role("link", name="Fatima El Idrissi")
            .count()
            == 1
        )

    def test_a_coach_of_another_municipality_cannot_open_the_candidate(
        self, live_server: Seeded, page: Any
    ) -> None:
        sign_in(page, live_server.base_url, live_server.keys["coach_b"])
        assert page.get_by_role("table").get_by_role("link", name="Sanne Mulder").is_visible()
        response = page.goto(f"{live_server.base_url}/kandidaten/{live_server.candidates['fatima']}")
        assert response is not None
        assert response.status == 404
        assert page.get_by_role("heading", level=1).inner_text() == "Niet gevonden"
        assert "Fatima" not in page.content()
        # On a vacancy page this coach sees own candidates by name, never another municipality's.
        page.goto(f"{live_server.base_url}/vacatures/{live_server.vacancies['orderpicker']}")
        assert page.get_by_role("link", name="Sanne Mulder").count() == 1
        assert "Fatima" not in page.content()

    def test_keyboard_users_can_skip_to_the_content(self, live_server: Seeded, page: Any) -> None:
        sign_in(page, live_server.base_url, live_server.keys["coach_a"])
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        assert focused.strip() == "Direct naar de inhoud"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "inhoud"

    def test_competence_fields_suggest_taxonomy_labels_as_you_type(
        self, live_server: Seeded, page: Any
    ) -> None:
        sign_in(page, live_server.base_url, live_server.keys["coach_a"])
        page.goto(f"{live_server.base_url}/kandidaten/{live_server.candidates['jan']}")
        field = page.locator('input[name="competences"]').last
        field.fill("heftruck")
        page.locator("#dl-skills option").first.wait_for(state="attached", timeout=10_000)
        assert page.locator("#dl-skills option").count() > 0

    def test_every_form_control_has_a_label_and_the_page_has_landmarks(
        self, live_server: Seeded, page: Any
    ) -> None:
        sign_in(page, live_server.base_url, live_server.keys["coach_a"])
        for path in (
            "/",
            f"/kandidaten/{live_server.candidates['fatima']}",
            f"/vacatures/{live_server.vacancies['orderpicker']}",
        ):
            page.goto(live_server.base_url + path)
            unlabelled = page.evaluate(
                "Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))"
                ".filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')).map(el => el.name)"
            )
            assert unlabelled == [], path
            assert page.evaluate("document.documentElement.lang") == "nl"
            assert page.get_by_role("banner").count() == 1
            assert page.get_by_role("main").count() == 1
            assert page.get_by_role("contentinfo").count() == 1
            assert page.get_by_role("heading", level=1).count() == 1
