"""The web page over the real app (httpx TestClient): sign-in, cookies, CSRF, worklist, profile validation,
authorization and audit. The browser tests (test_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.audit.models import AuditEntry
from tests.conftest import Key, candidate_payload, vacancy_payload


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: TestClient, key: str) -> Any:
    form = client.get("/aanmelden")
    return client.post(
        "/aanmelden",
        data={"api_key": key, "csrf_token": csrf_of(form.text), "next": "/"},
        follow_redirects=False,
    )


def create_candidate(client: TestClient, key: Key, **over: object) -> str:
    response = client.post("/api/v1/candidates", json=candidate_payload(**over), headers=key.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def audit_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


class TestSignIn:
    def test_pages_redirect_to_sign_in_without_a_session(self, client: TestClient) -> None:
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/aanmelden?next=")

    def test_a_coach_key_signs_in_with_a_hardened_cookie_that_does_not_hold_the_key(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        response = sign_in(client, keys["coach_a"].key)
        assert response.status_code == 303
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("wm_session="))
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert keys["coach_a"].key not in cookie
        assert keys["coach_a"].key[3:] not in cookie
        assert client.get("/").status_code == 200

    def test_the_cookie_is_secure_over_https(self, app: Any, keys: dict[str, Key]) -> None:
        with TestClient(app, base_url="https://werkmatch.test") as secure_client:
            cookie = next(
                h
                for h in sign_in(secure_client, keys["coach_a"].key).headers.get_list("set-cookie")
                if h.startswith("wm_session=")
            )
        assert "Secure" in cookie

    @pytest.mark.parametrize("who", ["wrong", "employer_x", "admin"])
    def test_a_wrong_or_non_coach_key_gets_a_clear_error_and_no_session(
        self, client: TestClient, keys: dict[str, Key], who: str
    ) -> None:
        key = "wm_" + "x" * 43 if who == "wrong" else keys[who].key
        response = sign_in(client, key)
        assert response.status_code == 401
        assert "Aanmelden mislukt" in response.text
        assert "wm_session" not in response.headers.get("set-cookie", "")
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_sign_in_without_the_forms_csrf_token_is_refused(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        client.get("/aanmelden")
        response = client.post(
            "/aanmelden",
            data={"api_key": keys["coach_a"].key, "csrf_token": "forged"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "wm_session" not in response.headers.get("set-cookie", "")

    def test_a_tampered_cookie_is_no_session(self, client: TestClient, keys: dict[str, Key]) -> None:
        sign_in(client, keys["coach_a"].key)
        token = client.cookies.get("wm_session")
        assert token
        client.cookies.set("wm_session", token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_sign_out_needs_the_csrf_token_and_ends_the_session(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        sign_in(client, keys["coach_a"].key)
        page = client.get("/")
        assert client.post("/afmelden", data={"csrf_token": "forged"}).status_code == 403
        response = client.post("/afmelden", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert response.status_code == 303
        client.cookies.clear()  # the browser drops the deleted cookie
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_redirects_after_sign_in_stay_on_this_site(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        form = client.get("/aanmelden")
        response = client.post(
            "/aanmelden",
            data={
                "api_key": keys["coach_a"].key,
                "csrf_token": csrf_of(form.text),
                "next": "//evil.example/",
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


class TestWorklist:
    def test_shows_own_candidates_only_with_filters_and_search(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        create_candidate(
            client, keys["coach_a"], external_ref="KL-1", given_name="Fatima", family_name="El Idrissi"
        )
        create_candidate(
            client,
            keys["coach_a"],
            external_ref="KL-2",
            given_name="Jan",
            family_name="Bosch",
            sectors=["zorg"],
            support="with_support",
        )
        create_candidate(
            client,
            keys["coach_b"],
            external_ref="AL-1",
            municipality="GM0141",
            given_name="Sanne",
            family_name="Mulder",
            postcode="7607 AA",
        )
        sign_in(client, keys["coach_a"].key)
        page = client.get("/").text
        assert "Fatima El Idrissi" in page
        assert "Jan Bosch" in page
        assert "Sanne" not in page
        assert "Fatima" not in client.get("/", params={"sector": "zorg"}).text
        assert "Jan Bosch" not in client.get("/", params={"support": "direct"}).text
        assert "Jan Bosch" in client.get("/", params={"q": "kl-2"}).text
        assert "Fatima" not in client.get("/", params={"q": "bosch"}).text
        assert "nog geen batchrun" in page.lower()

    def test_a_worklist_view_is_audited(
        self, client: TestClient, keys: dict[str, Key], session_factory: sessionmaker[Session]
    ) -> None:
        create_candidate(client, keys["coach_a"])
        sign_in(client, keys["coach_a"].key)
        before = audit_count(session_factory)
        assert client.get("/").status_code == 200
        assert audit_count(session_factory) == before + 1


class TestCandidatePage:
    def test_shows_profile_and_ranked_vacancies_with_explanation_bars(
        self, client: TestClient, keys: dict[str, Key], session_factory: sessionmaker[Session]
    ) -> None:
        candidate_id = create_candidate(client, keys["coach_a"])
        vacancy = client.post(
            "/api/v1/vacancies",
            json=vacancy_payload(title="Orderpicker XL"),
            headers=keys["employer_x"].headers,
        )
        assert vacancy.status_code == 201
        sign_in(client, keys["coach_a"].key)
        before = audit_count(session_factory)
        response = client.get(f"/kandidaten/{candidate_id}")
        assert response.status_code == 200
        assert "Orderpicker XL" in response.text
        assert 'class="seg seg-competences"' in response.text
        assert "Waarom deze score?" in response.text
        assert "111222333" not in response.text  # the BSN is never shown
        assert response.headers["cache-control"] == "no-store"
        assert audit_count(session_factory) == before + 1

    def test_a_coach_of_another_municipality_gets_the_not_found_page(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id = create_candidate(client, keys["coach_a"])
        sign_in(client, keys["coach_b"].key)
        response = client.get(f"/kandidaten/{candidate_id}")
        assert response.status_code == 404
        assert "Niet gevonden" in response.text
        assert client.get("/kandidaten/not-a-uuid").status_code == 404

    def test_saving_uses_the_api_validation_and_shows_errors_next_to_fields(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id = create_candidate(client, keys["coach_a"])
        sign_in(client, keys["coach_a"].key)
        page = client.get(f"/kandidaten/{candidate_id}").text
        form = _form_of(page)
        cases = [
            (
                {"bsn": "123456789", "max_travel_km": "900"},
                {"bsn": "elfproef", "max_travel_km": "hoogstens 200"},
            ),
            ({"hours_min": "40", "hours_max": "20"}, {"hours_max": "minstens het minimum"}),
            ({"postcode": "nonsense"}, {"postcode": "Geen geldige postcode"}),
        ]
        for change, expected in cases:
            response = client.post(f"/kandidaten/{candidate_id}", data={**form, **change})
            assert response.status_code == 422, change
            for field, message in expected.items():
                shown = re.search(rf'id="err-{field}">(.*?)</p>', response.text, flags=re.S)
                assert shown, field
                assert message in shown.group(1), field
            assert "123456789" not in response.text
        stored = client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers).json()
        assert stored["hours_max"] == 36

    def test_saving_a_valid_form_updates_the_candidate_and_keeps_taxonomy_codes(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id = create_candidate(
            client,
            keys["coach_a"],
            competences=[{"code": "http://data.europa.eu/esco/skill/x", "label": "orderpicken"}],
        )
        sign_in(client, keys["coach_a"].key)
        form = _form_of(client.get(f"/kandidaten/{candidate_id}").text)
        form.update(given_name="Fatma", max_travel_km="40")
        form["competences"] = ["orderpicken", "voorraadbeheer"]
        response = client.post(f"/kandidaten/{candidate_id}", data=form, follow_redirects=False)
        assert response.status_code == 303, response.text
        stored = client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers).json()
        assert stored["given_name"] == "Fatma"
        assert stored["max_travel_km"] == 40
        assert stored["has_bsn"] is True  # an empty BSN field keeps the one on file
        assert stored["competences"] == [
            {"code": "http://data.europa.eu/esco/skill/x", "label": "orderpicken"},
            {"code": None, "label": "voorraadbeheer"},
        ]

    def test_a_stale_form_does_not_overwrite_a_newer_profile(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id = create_candidate(client, keys["coach_a"])
        sign_in(client, keys["coach_a"].key)
        form = _form_of(client.get(f"/kandidaten/{candidate_id}").text)
        newer = candidate_payload(external_ref=form["external_ref"], given_name="Nieuw")
        assert (
            client.put(
                f"/api/v1/candidates/{candidate_id}", json=newer, headers=keys["coach_a"].headers
            ).status_code
            == 200
        )
        form["given_name"] = "Oud"
        response = client.post(f"/kandidaten/{candidate_id}", data=form)
        assert response.status_code == 409
        assert "intussen gewijzigd" in response.text

    def test_posting_without_the_csrf_token_is_refused(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id = create_candidate(client, keys["coach_a"])
        sign_in(client, keys["coach_a"].key)
        form = _form_of(client.get(f"/kandidaten/{candidate_id}").text)
        form["csrf_token"] = "forged"
        form["given_name"] = "Gehackt"
        assert client.post(f"/kandidaten/{candidate_id}", data=form).status_code == 403
        stored = client.get(f"/api/v1/candidates/{candidate_id}", headers=keys["coach_a"].headers).json()
        assert stored["given_name"] == "Fatima"


class TestTaxonomyLookup:
    def test_needs_a_session_and_suggests_skills(self, client: TestClient, keys: dict[str, Key]) -> None:
        assert client.get("/ui/taxonomy/skills", params={"q": "heftruck"}).status_code == 401
        sign_in(client, keys["coach_a"].key)
        items = client.get("/ui/taxonomy/skills", params={"q": "heftruck"}).json()["items"]
        assert items
        assert all(set(item) == {"code", "label"} for item in items)
        assert client.get("/ui/taxonomy/occupations", params={"q": "magazijn"}).json()["items"]


def _form_of(html: str) -> dict[str, Any]:
    """The profile form's current values, as the browser would submit them (multi-valued fields as lists)."""
    form = html[html.index('class="profile-form"') :]
    form = form[: form.index("</form>")]
    data: dict[str, Any] = {}

    def add(name: str, value: str) -> None:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [data[name], value]
        else:
            data[name] = value

    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value_match = re.search(r'value="([^"]*)"', tag)
        value = value_match.group(1) if value_match else ""
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                add(name.group(1), value if value_match else "on")
        else:
            add(name.group(1), value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, flags=re.S):
        selected = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = selected.group(1) if selected else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, flags=re.S):
        data[name] = body
    for key in ("competences", "desired_occupations", "experience_label", "experience_years"):
        if key in data and not isinstance(data[key], list):
            data[key] = [data[key]]
    return data


class TestWorklistBatchNews:
    def test_counts_good_matches_that_are_new_in_the_published_run(
        self,
        client: TestClient,
        keys: dict[str, Key],
        database_url: str,
        session_factory: sessionmaker[Session],
    ) -> None:
        from service.batch import store
        from service.batch.runner import run_batch
        from service.web.router import GOOD_MATCH_SCORE

        candidate_id = create_candidate(client, keys["coach_a"], external_ref="KL-NEWS")
        first = client.post(
            "/api/v1/vacancies", json=vacancy_payload(title="Orderpicker"), headers=keys["employer_x"].headers
        )
        assert first.status_code == 201
        run_batch(database_url, workers=1)
        sign_in(client, keys["coach_a"].key)

        def good() -> set[str]:
            with session_factory() as session:
                _, rows = store.read_published_matches(
                    session, direction="c2v", subject_id=uuid.UUID(candidate_id), limit=200
                )
            return {str(row.other_id) for row in rows if row.score >= GOOD_MATCH_SCORE}

        def shown() -> str:
            row = re.search(r"KL-NEWS</td>.*?<td class=\"num\">(.*?)</td>", client.get("/").text, flags=re.S)
            assert row
            return re.sub(r"<[^>]+>", "", row.group(1)).strip()

        good_first = good()
        assert good_first, "the seeded pair should be a good match"
        assert shown() == str(len(good_first))  # the first run: every good match is new

        second = client.post(
            "/api/v1/vacancies",
            json=vacancy_payload(title="Orderpicker nachtdienst"),
            headers=keys["employer_x"].headers,
        )
        assert second.status_code == 201
        run_batch(database_url, workers=1)
        assert shown() == str(len(good() - good_first))
        assert second.json()["id"] in good() - good_first


class TestMatchFiltersAndProposals:
    def _world(self, client: TestClient, keys: dict[str, Key]) -> tuple[str, str, str]:
        candidate_id = create_candidate(
            client, keys["coach_a"], work_countries=["NL", "DE"], max_travel_km=60
        )
        near = client.post(
            "/api/v1/vacancies",
            json=vacancy_payload(title="Orderpicker Almelo", hours_min=32, hours_max=40),
            headers=keys["employer_x"].headers,
        ).json()["id"]
        part_time = client.post(
            "/api/v1/vacancies",
            json=vacancy_payload(
                title="Magazijnmedewerker deeltijd Enschede", postcode="7511 AB", hours_min=12, hours_max=16
            ),
            headers=keys["employer_x"].headers,
        ).json()["id"]
        return candidate_id, near, part_time

    def test_filters_on_hours_and_distance_narrow_the_ranking(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id, _near, _part_time = self._world(client, keys)
        sign_in(client, keys["coach_a"].key)
        everything = client.get(f"/kandidaten/{candidate_id}").text
        assert "Orderpicker Almelo" in everything
        assert "Magazijnmedewerker deeltijd Enschede" in everything
        part_time_only = client.get(f"/kandidaten/{candidate_id}", params={"uren_max": "20"}).text
        assert "Orderpicker Almelo" not in part_time_only
        assert "Magazijnmedewerker deeltijd Enschede" in part_time_only
        close_by = client.get(f"/kandidaten/{candidate_id}", params={"max_km": "5"}).text
        assert "Orderpicker Almelo" not in close_by  # Almelo is ~20 km from Enschede 7511
        assert "Magazijnmedewerker deeltijd Enschede" in close_by
        other_sector = client.get(f"/kandidaten/{candidate_id}", params={"sector": "zorg"}).text
        assert "Orderpicker Almelo" not in other_sector

    def test_a_candidate_is_proposed_once_and_the_vacancy_page_shows_it_to_own_coaches_only(
        self, client: TestClient, keys: dict[str, Key]
    ) -> None:
        candidate_id, vacancy_id, _ = self._world(client, keys)
        sign_in(client, keys["coach_a"].key)
        page = client.get(f"/kandidaten/{candidate_id}").text
        data = {"csrf_token": csrf_of(page), "vacancy_id": vacancy_id, "note": "Sterke orderpicker."}
        response = client.post(f"/kandidaten/{candidate_id}/voordragen", data=data, follow_redirects=False)
        assert response.status_code == 303
        again = client.post(f"/kandidaten/{candidate_id}/voordragen", data=data)
        assert again.status_code == 409
        assert "al voorgedragen" in again.text
        vacancy_page = client.get(f"/vacatures/{vacancy_id}").text
        assert "Sterke orderpicker." in vacancy_page
        assert "Fatima El Idrissi" in vacancy_page

        client.cookies.clear()
        sign_in(client, keys["coach_b"].key)
        foreign = client.get(f"/vacatures/{vacancy_id}")
        assert foreign.status_code == 200
        assert (
            "Fatima" not in foreign.text
        )  # another municipality's candidate: neither ranked nor in proposals
        assert "Sterke orderpicker." not in foreign.text
        refused = client.post(
            f"/kandidaten/{candidate_id}/voordragen", data={**data, "csrf_token": csrf_of(foreign.text)}
        )
        assert refused.status_code == 404


class TestSessions:
    def test_revoking_the_key_ends_its_web_sessions(
        self, client: TestClient, keys: dict[str, Key], session_factory: sessionmaker[Session]
    ) -> None:
        from datetime import UTC, datetime

        from service.auth.keys import digest_key
        from service.persistence.models import ApiKey

        sign_in(client, keys["coach_a"].key)
        assert client.get("/", follow_redirects=False).status_code == 200
        with session_factory() as session, session.begin():
            row = session.scalars(
                select(ApiKey).where(ApiKey.digest == digest_key(keys["coach_a"].key))
            ).one()
            row.revoked_at = datetime.now(UTC)
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_a_session_token_expires_and_is_bound_to_the_secret(self) -> None:
        import uuid as uuid_module

        from service.auth.principal import Principal, Role
        from service.web.session import SESSION_SECONDS, check_csrf, csrf_token, issue_session, read_session

        principal = Principal(
            key_id=uuid_module.uuid4(), role=Role.COACH, municipalities=frozenset({"GM0153"})
        )
        token, issued = issue_session(principal=principal, secret="s" * 32, now=1_000_000)
        assert read_session(token, secret="s" * 32, now=1_000_000 + SESSION_SECONDS - 1) == issued
        assert read_session(token, secret="s" * 32, now=1_000_000 + SESSION_SECONDS) is None
        assert read_session(token, secret="t" * 32, now=1_000_000) is None
        assert str(principal.key_id.hex) in token  # the key's row id, never the key
        csrf = csrf_token(nonce=issued.nonce, secret="s" * 32)
        assert check_csrf(csrf, nonce=issued.nonce, secret="s" * 32)
        assert not check_csrf(csrf, nonce="another-session", secret="s" * 32)

    def test_another_authenticator_plugs_in_through_app_state(self, app: Any, keys: dict[str, Key]) -> None:
        """The OpenID Connect seam: the sign-in route asks `app.state.web_authenticator`."""
        from service.auth.keys import authenticate

        class TicketAuthenticator:
            """Accepts `ticket:<coach key>` (a stand-in for a validated ID token mapped to a key row)."""

            def authenticate(self, session: Session, credential: str) -> Any:
                if not credential.startswith("ticket:"):
                    return None
                return authenticate(session, credential.removeprefix("ticket:"))

        app.state.web_authenticator = TicketAuthenticator()
        with TestClient(app) as client:
            assert sign_in(client, keys["coach_a"].key).status_code == 401
            assert sign_in(client, "ticket:" + keys["coach_a"].key).status_code == 303
            assert client.get("/", follow_redirects=False).status_code == 200
