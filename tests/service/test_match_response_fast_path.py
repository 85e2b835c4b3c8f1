"""The match routes' fast paths: the response body is exactly what the page models give, and the live index
applies this process's writes in the background without giving up read-your-writes."""

from __future__ import annotations

import gc
import time
import uuid

import pytest

from service.auth.principal import Principal, Role
from service.matches.live import get_live_index
from service.matches.repository import MatchRepository
from service.matches.schemas import CandidateMatchPage, VacancyMatchPage
from tests.conftest import candidate_payload, create, vacancy_payload

MATCHES = "/api/v1/candidates/{}/matches"
V_MATCHES = "/api/v1/vacancies/{}/matches"


@pytest.fixture
def market(client, keys) -> dict[str, dict]:
    """Two vacancies (one with an unmet certificate and a closing date) and two candidates of GM0153."""
    employer = keys["employer_x"]
    return {
        "orderpicker": create(client, "/api/v1/vacancies", vacancy_payload(), employer),
        "zorg": create(
            client,
            "/api/v1/vacancies",
            vacancy_payload(
                title="Helpende zorg en welzijn",
                occupation={"label": "helpende zorg en welzijn"},
                sector="zorg",
                certificates_required=["VOG"],
                closes_at=None,
            ),
            employer,
        ),
        "fatima": create(client, "/api/v1/candidates", candidate_payload(), keys["coach_a"]),
        "piet": create(
            client,
            "/api/v1/candidates",
            candidate_payload(given_name="Piet", family_name="Jansen", education_level=None, bsn="123456782"),
            keys["coach_a"],
        ),
    }


class TestMatchPageBody:
    def test_candidate_ranking_body_is_the_page_models_serialisation(self, client, keys, market):
        response = client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        page = VacancyMatchPage.model_validate_json(response.content)
        assert len(page.items) == 2
        assert any(item.unmet for item in page.items)
        assert page.__pydantic_serializer__.to_json(page) == response.content

    def test_vacancy_ranking_body_is_the_page_models_serialisation(self, client, keys, market):
        response = client.get(V_MATCHES.format(market["orderpicker"]["id"]), headers=keys["coach_a"].headers)
        assert response.status_code == 200, response.text
        page = CandidateMatchPage.model_validate_json(response.content)
        ranked = {str(item.candidate.id) for item in page.items}
        assert ranked == {market["fatima"]["id"], market["piet"]["id"]}
        assert page.__pydantic_serializer__.to_json(page) == response.content

    def test_filtered_and_empty_pages_too(self, client, keys, market):
        for params in ({"sector": "zorg"}, {"min_score": 100}, {"limit": 1}):
            response = client.get(
                MATCHES.format(market["fatima"]["id"]), params=params, headers=keys["coach_a"].headers
            )
            assert response.status_code == 200, response.text
            page = VacancyMatchPage.model_validate_json(response.content)
            assert page.__pydantic_serializer__.to_json(page) == response.content


class TestLiveIndexOffTheRequestPath:
    def test_a_write_is_applied_in_the_background_without_a_match_request(self, client, app, keys, market):
        client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        index = get_live_index(app)
        before = index.seq
        create(client, "/api/v1/vacancies", vacancy_payload(title="Heftruckchauffeur"), keys["employer_x"])
        deadline = time.monotonic() + 5
        while index.seq == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert index.seq > before
        assert index.counts()["vacancies"] == 3

    def test_a_match_right_after_a_write_sees_it(self, client, keys, market):
        for n in range(5):
            created = create(
                client, "/api/v1/vacancies", vacancy_payload(title=f"Orderpicker {n}"), keys["employer_x"]
            )
            response = client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
            assert created["id"] in {item["vacancy"]["id"] for item in response.json()["items"]}

    def test_the_built_index_is_kept_out_of_full_collections(self, client, keys, market):
        client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        assert gc.get_freeze_count() > 0


class TestLiveVacancySummaries:
    """A live ranking takes its vacancy summaries from the live index, which must agree with the database."""

    def test_snapshot_summaries_equal_the_scoped_statements(self, client, app, keys, market, session_factory):
        client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        snapshot = get_live_index(app).vacancy_summaries()
        ids = [market["orderpicker"]["id"], market["zorg"]["id"]]
        coach = Principal(key_id=uuid.uuid4(), role=Role.COACH, municipalities=frozenset({"GM0141"}))
        with session_factory() as session:
            repo = MatchRepository(session)
            assert repo.live_vacancies(coach, ids, snapshot) == repo.vacancies(coach, ids)
            assert set(repo.vacancies(coach, ids)) == set(ids)

    def test_a_principal_who_may_not_read_every_vacancy_gets_the_scoped_statement(
        self, client, app, keys, market, session_factory
    ):
        client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        snapshot = get_live_index(app).vacancy_summaries()
        stranger = Principal(key_id=uuid.uuid4(), role=Role.EMPLOYER, employer_id=uuid.uuid4())
        with session_factory() as session:
            assert MatchRepository(session).live_vacancies(stranger, list(snapshot), snapshot) == {}

    def test_a_closed_vacancy_leaves_the_snapshot(self, client, app, keys, market):
        client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        vacancy_id = market["zorg"]["id"]
        assert vacancy_id in get_live_index(app).vacancy_summaries()
        closed = client.delete(f"/api/v1/vacancies/{vacancy_id}", headers=keys["employer_x"].headers)
        assert closed.status_code == 204
        client.get(MATCHES.format(market["fatima"]["id"]), headers=keys["coach_a"].headers)
        assert vacancy_id not in get_live_index(app).vacancy_summaries()
