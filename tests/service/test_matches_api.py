"""Live matches over the real app: ranking, explanations, filters, scoping, freshness within and across
processes."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.main import create_app
from service.matches.live import get_live_index
from tests.conftest import candidate_payload, create, vacancy_payload

MATCHES = "/api/v1/candidates/{}/matches"
V_MATCHES = "/api/v1/vacancies/{}/matches"


def vacancy(client, key, **over) -> dict:
    return create(client, "/api/v1/vacancies", vacancy_payload(**over), key)


def candidate(client, key, **over) -> dict:
    return create(client, "/api/v1/candidates", candidate_payload(**over), key)


def matches(client, key, candidate_id, **params) -> dict:
    response = client.get(MATCHES.format(candidate_id), params=params, headers=key.headers)
    assert response.status_code == 200, response.text
    return response.json()


def vacancy_ids(page: dict) -> list[str]:
    return [item["vacancy"]["id"] for item in page["items"]]


def summary_of(page: dict, vacancy_id: str) -> dict:
    """The vacancy summary of one item of a candidate's match page."""
    (item,) = [i for i in page["items"] if i["vacancy"]["id"] == vacancy_id]
    return item["vacancy"]


@pytest.fixture
def market(client, keys) -> dict[str, dict]:
    """A small labour market: logistics, care and an ICT job in Almelo/Enschede, a warehouse job in Gronau
    (DE)."""
    emp_x, emp_y = keys["employer_x"], keys["employer_y"]
    return {
        "orderpicker": vacancy(client, emp_x),
        "zorg": vacancy(
            client,
            emp_y,
            title="Helpende zorg en welzijn",
            occupation={"label": "helpende zorg en welzijn"},
            sector="zorg",
            competences_required=[{"label": "persoonlijke verzorging"}],
            competences_desired=[],
            certificates_required=["VOG"],
            languages_required={"nl": "2F"},
            postcode="7551 AA",
        ),
        "ict": vacancy(
            client,
            emp_x,
            title="Junior developer",
            occupation={"label": "softwareontwikkelaar"},
            sector="ict",
            competences_required=[{"label": "Python"}],
            competences_desired=[],
            certificates_required=[],
            education_level_min="mbo4",
            postcode="7511 AB",
        ),
        "gronau": vacancy(
            client,
            emp_x,
            title="Lagerhelfer (m/w/d)",
            occupation={"label": "Lagerarbeiter"},
            country="DE",
            postcode="48599",
            languages_required={"de": "A2"},
            certificates_required=[],
        ),
    }


class TestCandidateMatches:
    def test_ranked_items_explain_their_score(self, client, keys, market):
        coach = keys["coach_a"]
        cand = candidate(client, coach)
        page = matches(client, coach, cand["id"])
        assert page["source"] == "live"
        assert page["algorithm"]["name"]
        assert page["algorithm"]["version"]
        assert page["candidate_id"] == cand["id"]
        assert len(page["items"]) == 4
        assert [item["rank"] for item in page["items"]] == [1, 2, 3, 4]
        assert page["items"][0]["vacancy"]["id"] == market["orderpicker"]["id"]
        assert page["items"][0]["vacancy"]["employer"]["name"] == "Logistiek XL Almelo B.V."
        for item in page["items"]:
            assert 0 <= item["score"] <= 100
            assert sum(e["contribution"] for e in item["explanation"]) == pytest.approx(
                item["score"], abs=0.011
            )
            assert {e["factor"] for e in item["explanation"]} >= {"competences", "language", "travel"}
            assert all(set(u) == {"code", "detail"} for u in item["unmet"])
            assert item["distance_km"] >= 0
        scores = [(bool(i["unmet"]), -i["score"]) for i in page["items"]]
        assert scores == sorted(scores)

    def test_unmet_hard_requirement_is_shown_not_hidden(self, client, keys, market):
        coach = keys["coach_a"]
        cand = candidate(client, coach, certificates=[], competences=[{"label": "orderpicken"}])
        page = matches(client, coach, cand["id"])
        orderpicker = next(i for i in page["items"] if i["vacancy"]["id"] == market["orderpicker"]["id"])
        assert orderpicker["unmet"], orderpicker
        assert any("VCA" in u["detail"] for u in orderpicker["unmet"])

    def test_filters(self, client, keys, market):
        coach = keys["coach_a"]
        cand = candidate(client, coach)
        assert vacancy_ids(matches(client, coach, cand["id"], sector="zorg")) == [market["zorg"]["id"]]
        assert vacancy_ids(matches(client, coach, cand["id"], country="DE")) == [market["gronau"]["id"]]
        near = matches(client, coach, cand["id"], max_km=5)
        assert market["gronau"]["id"] not in vacancy_ids(near)
        assert all(item["distance_km"] <= 5 for item in near["items"])
        everything = matches(client, coach, cand["id"])
        threshold = everything["items"][1]["score"]
        high = matches(client, coach, cand["id"], min_score=threshold)
        assert high["items"]
        assert all(item["score"] >= threshold for item in high["items"])
        assert len(high["items"]) < len(everything["items"])

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"limit": 201}, 422),
            ({"limit": 0}, 422),
            ({"limit": 200}, 200),
            ({"max_km": -1}, 422),
            ({"min_score": 101}, 422),
            ({"sector": "circus"}, 422),
            ({"country": "BE"}, 422),
            ({"source": "cache"}, 422),
        ],
    )
    def test_parameter_bounds(self, client, keys, params, expected):
        coach = keys["coach_a"]
        cand = candidate(client, coach)
        response = client.get(MATCHES.format(cand["id"]), params=params, headers=coach.headers)
        assert response.status_code == expected, response.text

    def test_limit_cuts_the_ranking(self, client, keys, market):
        coach = keys["coach_a"]
        cand = candidate(client, coach)
        full = matches(client, coach, cand["id"])
        assert vacancy_ids(matches(client, coach, cand["id"], limit=2)) == vacancy_ids(full)[:2]

    def test_foreign_and_unknown_candidates_are_404_other_roles_403(self, client, keys, market):
        cand = candidate(client, keys["coach_a"])
        foreign = client.get(MATCHES.format(cand["id"]), headers=keys["coach_b"].headers)
        unknown = client.get(
            MATCHES.format("00000000-0000-4000-8000-000000000000"), headers=keys["coach_b"].headers
        )
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json()["detail"] == unknown.json()["detail"]
        for role in ("employer_x", "admin", "batch"):
            assert client.get(MATCHES.format(cand["id"]), headers=keys[role].headers).status_code == 403
        assert client.get(MATCHES.format(cand["id"])).status_code == 401

    def test_response_is_audited(self, client, keys, market, session_factory):
        coach = keys["coach_a"]
        cand = candidate(client, coach)
        matches(client, coach, cand["id"])
        with session_factory() as session:
            actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert actions[-1] == "candidate.matches"


class TestVacancyMatches:
    def test_coach_sees_only_own_municipalities_with_names(self, client, keys, market):
        mine = candidate(client, keys["coach_a"], given_name="Anouk")
        theirs = candidate(
            client, keys["coach_b"], municipality="GM0141", postcode="7607 AA", given_name="Bram"
        )
        vid = market["orderpicker"]["id"]
        page_a = client.get(V_MATCHES.format(vid), headers=keys["coach_a"].headers).json()
        page_b = client.get(V_MATCHES.format(vid), headers=keys["coach_b"].headers).json()
        assert [i["candidate"]["id"] for i in page_a["items"]] == [mine["id"]]
        assert [i["candidate"]["id"] for i in page_b["items"]] == [theirs["id"]]
        item = page_a["items"][0]
        assert item["candidate"]["given_name"] == "Anouk"
        assert "bsn" not in item["candidate"]
        assert "target_group_register" not in item["candidate"]
        assert sum(e["contribution"] for e in item["explanation"]) == pytest.approx(item["score"], abs=0.011)
        assert page_a["vacancy_id"] == vid
        assert page_a["source"] == "live"

    def test_coach_of_two_municipalities_gets_one_merged_ranking(self, client, keys, market, make_key):
        both = make_key("coach", municipalities=("GM0141", "GM0153"))
        candidate(client, keys["coach_a"])
        candidate(client, keys["coach_b"], municipality="GM0141", postcode="7607 AA")
        candidate(client, keys["coach_b"], municipality="GM0141", postcode="7607 AA", certificates=[])
        page = client.get(V_MATCHES.format(market["orderpicker"]["id"]), headers=both.headers).json()
        assert [i["rank"] for i in page["items"]] == [1, 2, 3]
        keys_ = [(bool(i["unmet"]), -i["score"], i["candidate"]["id"]) for i in page["items"]]
        assert keys_ == sorted(keys_)
        limited = client.get(
            V_MATCHES.format(market["orderpicker"]["id"]), params={"limit": 2}, headers=both.headers
        ).json()
        assert [i["candidate"]["id"] for i in limited["items"]] == [
            i["candidate"]["id"] for i in page["items"][:2]
        ]

    def test_employer_never_gets_a_candidate_ranking(self, client, keys, market):
        candidate(client, keys["coach_a"])
        vid = market["orderpicker"]["id"]
        own = client.get(V_MATCHES.format(vid), headers=keys["employer_x"].headers)
        assert own.status_code == 403
        assert "items" not in own.json()
        assert client.get(V_MATCHES.format(vid), headers=keys["admin"].headers).status_code == 403

    def test_unknown_vacancy_is_404(self, client, keys):
        response = client.get(
            V_MATCHES.format("00000000-0000-4000-8000-000000000000"), headers=keys["coach_a"].headers
        )
        assert response.status_code == 404

    def test_response_is_audited_with_every_candidate(self, client, keys, market, session_factory):
        cand = candidate(client, keys["coach_a"])
        client.get(V_MATCHES.format(market["orderpicker"]["id"]), headers=keys["coach_a"].headers)
        with session_factory() as session:
            entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert entry.action == "vacancy.matches"
        assert entry.subjects == [cand["id"]]


class TestFreshness:
    def test_vacancy_created_changed_and_closed_through_the_api(self, client, keys, market):
        coach, emp = keys["coach_a"], keys["employer_x"]
        cand = candidate(client, coach)
        matches(client, coach, cand["id"])  # the index exists before the changes
        new = vacancy(client, emp, external_ref="NEW-1", title="Reachtruckchauffeur")
        shown = summary_of(matches(client, coach, cand["id"]), new["id"])
        assert (shown["title"], shown["sector"]) == ("Reachtruckchauffeur", "logistiek")
        changed = client.put(
            f"/api/v1/vacancies/{new['id']}",
            headers=emp.headers,
            json=vacancy_payload(external_ref="NEW-1", sector="productie", title="Operator productie"),
        )
        assert changed.status_code == 200
        # The summary a coach sees changes with the ranking (both come from the live index's snapshot).
        shown = summary_of(matches(client, coach, cand["id"], sector="productie"), new["id"])
        assert (shown["title"], shown["sector"]) == ("Operator productie", "productie")
        assert new["id"] not in vacancy_ids(matches(client, coach, cand["id"], sector="logistiek"))
        assert client.delete(f"/api/v1/vacancies/{new['id']}", headers=emp.headers).status_code == 204
        assert new["id"] not in vacancy_ids(matches(client, coach, cand["id"]))

    def test_candidate_changes_reach_vacancy_rankings(self, client, keys, market):
        coach = keys["coach_a"]
        vid = market["orderpicker"]["id"]
        cand = candidate(client, coach, external_ref="KL-F1")
        page = client.get(V_MATCHES.format(vid), headers=coach.headers).json()
        assert [i["candidate"]["id"] for i in page["items"]] == [cand["id"]]
        placed = client.put(
            f"/api/v1/candidates/{cand['id']}",
            headers=coach.headers,
            json=candidate_payload(external_ref="KL-F1", status="placed"),
        )
        assert placed.status_code == 200
        assert client.get(V_MATCHES.format(vid), headers=coach.headers).json()["items"] == []
        client.put(
            f"/api/v1/candidates/{cand['id']}",
            headers=coach.headers,
            json=candidate_payload(external_ref="KL-F1", status="active"),
        )
        assert len(client.get(V_MATCHES.format(vid), headers=coach.headers).json()["items"]) == 1
        assert client.delete(f"/api/v1/candidates/{cand['id']}", headers=coach.headers).status_code == 204
        assert client.get(V_MATCHES.format(vid), headers=coach.headers).json()["items"] == []

    def test_second_app_instance_sees_a_change_within_a_second(self, client, keys, market, settings):
        coach, emp = keys["coach_a"], keys["employer_x"]
        cand = candidate(client, coach)
        other_app = create_app(settings)  # another worker/host on the same database
        try:
            with TestClient(other_app, raise_server_exceptions=False) as other:
                before = matches(other, coach, cand["id"])  # builds the second process's index
                new = vacancy(client, emp, external_ref="XPROC-1")  # written through the first instance
                assert new["id"] not in vacancy_ids(before)
                # The second instance learns of it only by polling the change counter (no shared memory):
                # a request finding the last poll two intervals old polls first, so after two intervals at
                # most, and well within 1 s, the next request shows it.
                time.sleep(2 * settings.index_poll_seconds + 0.05)
                assert new["id"] in vacancy_ids(matches(other, coach, cand["id"]))
                client.delete(f"/api/v1/vacancies/{new['id']}", headers=emp.headers)
                time.sleep(2 * settings.index_poll_seconds + 0.05)
                assert new["id"] not in vacancy_ids(matches(other, coach, cand["id"]))
        finally:
            other_app.state.engine.dispose()

    def test_a_due_poll_runs_after_the_response_that_found_it_due(self, client, keys, market, settings):
        coach, emp = keys["coach_a"], keys["employer_x"]
        cand = candidate(client, coach)
        other_app = create_app(settings)
        try:
            with TestClient(other_app, raise_server_exceptions=False) as other:
                matches(other, coach, cand["id"])  # builds the second instance's index
                index = get_live_index(other_app)
                new = vacancy(client, emp, external_ref="XPROC-2")
                time.sleep(settings.index_poll_seconds + 0.05)  # a poll is due, not overdue
                seq = index.seq
                matches(other, coach, cand["id"])  # answered at once (it may not show the vacancy yet) ...
                assert index.seq > seq  # ... and the poll ran after its response
                assert new["id"] in vacancy_ids(matches(other, coach, cand["id"]))
        finally:
            other_app.state.engine.dispose()


class TestBatchSource:
    def test_before_any_published_run_the_stored_ranking_is_empty(self, client, keys, market):
        coach = keys["coach_a"]
        cand = candidate(client, coach)
        page = matches(client, coach, cand["id"], source="batch")
        assert page["source"] == "batch"
        assert page["items"] == []
        assert page["run_id"] is None

    def test_published_run_is_served_and_explained(self, client, keys, market, database_url):
        from service.batch.runner import run_batch

        coach = keys["coach_a"]
        cand = candidate(client, coach)
        summary = run_batch(database_url, workers=1, top_k=10)
        page = matches(client, coach, cand["id"], source="batch")
        assert page["source"] == "batch"
        assert page["run_id"] == str(summary.run_id)
        live = matches(client, coach, cand["id"])
        # The batch stores feasible pairs only (every hard requirement met), in the live order and with its
        # scores.
        feasible = [(i["vacancy"]["id"], i["score"]) for i in live["items"] if not i["unmet"]]
        assert [(i["vacancy"]["id"], i["score"]) for i in page["items"]] == feasible
        for item in page["items"]:
            assert item["changed_since_run"] is False
            assert sum(e["contribution"] for e in item["explanation"]) == pytest.approx(
                item["score"], abs=0.011
            )
        assert [i["rank"] for i in page["items"]] == list(range(1, len(page["items"]) + 1))
        by_vacancy = client.get(
            V_MATCHES.format(market["orderpicker"]["id"]), params={"source": "batch"}, headers=coach.headers
        ).json()
        assert [i["candidate"]["id"] for i in by_vacancy["items"]] == [cand["id"]]
        # Another municipality's coach never sees this candidate in the stored ranking.
        other = client.get(
            V_MATCHES.format(market["orderpicker"]["id"]),
            params={"source": "batch"},
            headers=keys["coach_b"].headers,
        ).json()
        assert other["items"] == []


class TestAlgorithms:
    def test_documents_factors_weights_and_version(self, client, keys):
        response = client.get("/api/v1/algorithms", headers=keys["employer_x"].headers)
        assert response.status_code == 200
        items = response.json()["items"]
        default = next(a for a in items if a["default"])
        assert default["version"]
        assert sum(f["weight"] for f in default["factors"]) == pytest.approx(100)
        assert all(f["description"] for f in default["factors"])
        assert default["thresholds"]["unmet_multiplier"] > 0
        assert client.get("/api/v1/algorithms").status_code == 401
