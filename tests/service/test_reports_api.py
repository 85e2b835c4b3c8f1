"""Outcome reports over the real app: counts per sector, municipality and country; coach scope; no person
data."""

from __future__ import annotations

from tests.conftest import candidate_payload, create, vacancy_payload

REPORT = "/api/v1/reports/outcomes"


def propose_and_set(client, coach, employer, *, vacancy_id: str, candidate_id: str, steps: list[str]) -> None:
    proposal = create(
        client, f"/api/v1/vacancies/{vacancy_id}/proposals", {"candidate_id": candidate_id}, coach
    )
    for step in steps:
        response = client.patch(
            f"/api/v1/proposals/{proposal['id']}", json={"status": step}, headers=employer.headers
        )
        assert response.status_code == 200, response.text


class TestOutcomeReport:
    def test_counts_and_indicators(self, client, keys):
        coach_a, coach_b, emp_x, emp_y = (
            keys["coach_a"],
            keys["coach_b"],
            keys["employer_x"],
            keys["employer_y"],
        )
        logistics = create(client, "/api/v1/vacancies", vacancy_payload(), emp_x)
        care = create(client, "/api/v1/vacancies", vacancy_payload(sector="zorg", title="Helpende"), emp_y)
        germany = create(client, "/api/v1/vacancies", vacancy_payload(country="DE", postcode="48599"), emp_x)
        a1, a2, a3 = (create(client, "/api/v1/candidates", candidate_payload(), coach_a) for _ in range(3))
        b1 = create(
            client,
            "/api/v1/candidates",
            candidate_payload(municipality="GM0141", postcode="7607 AA"),
            coach_b,
        )
        propose_and_set(
            client, coach_a, emp_y, vacancy_id=care["id"], candidate_id=a1["id"], steps=["interview", "hired"]
        )
        propose_and_set(
            client,
            coach_a,
            emp_x,
            vacancy_id=germany["id"],
            candidate_id=a2["id"],
            steps=["interview", "hired"],
        )
        propose_and_set(
            client, coach_a, emp_x, vacancy_id=logistics["id"], candidate_id=a3["id"], steps=["rejected"]
        )
        propose_and_set(
            client, coach_b, emp_x, vacancy_id=logistics["id"], candidate_id=b1["id"], steps=["interview"]
        )

        admin = client.get(REPORT, headers=keys["admin"].headers)
        assert admin.status_code == 200, admin.text
        report = admin.json()
        assert report["scope"] is None
        assert report["totals"]["proposals"] == 4
        assert (report["totals"]["hired"], report["totals"]["rejected"], report["totals"]["interview"]) == (
            2,
            1,
            1,
        )
        assert report["indicators"] == {
            "uitstroom_naar_werk": 2,
            "plaatsingen_zorg": 1,
            "plaatsingen_ict": 0,
            "plaatsingen_duitsland": 1,
            "candidates_placed": 2,
        }
        by_sector = {row["key"]: row for row in report["by_sector"]}
        assert by_sector["logistiek"]["proposals"] == 3
        assert by_sector["logistiek"]["placements"] == 1
        assert by_sector["zorg"]["placements"] == 1
        by_municipality = {row["key"]: row["proposals"] for row in report["by_municipality"]}
        assert by_municipality == {"GM0153": 3, "GM0141": 1}
        by_country = {row["key"]: row["hired"] for row in report["by_country"]}
        assert by_country == {"NL": 1, "DE": 1}

        coach_b_report = client.get(REPORT, headers=coach_b.headers).json()
        assert coach_b_report["scope"] == ["GM0141"]
        assert coach_b_report["totals"]["proposals"] == 1
        assert [row["key"] for row in coach_b_report["by_municipality"]] == ["GM0141"]
        assert coach_b_report["indicators"]["uitstroom_naar_werk"] == 0

    def test_aggregates_only(self, client, keys):
        coach = keys["coach_a"]
        vacancy = create(client, "/api/v1/vacancies", vacancy_payload(), keys["employer_x"])
        person = create(client, "/api/v1/candidates", candidate_payload(given_name="Uniekenaam"), coach)
        propose_and_set(
            client, coach, keys["employer_x"], vacancy_id=vacancy["id"], candidate_id=person["id"], steps=[]
        )
        text = client.get(REPORT, headers=coach.headers).text
        assert person["id"] not in text
        assert "Uniekenaam" not in text
        assert vacancy["id"] not in text

    def test_roles(self, client, keys):
        assert client.get(REPORT, headers=keys["employer_x"].headers).status_code == 403
        assert client.get(REPORT, headers=keys["batch"].headers).status_code == 403
        assert client.get(REPORT).status_code == 401
        empty = client.get(REPORT, headers=keys["coach_a"].headers).json()
        assert empty["totals"]["proposals"] == 0
        assert empty["by_sector"] == []


class TestOutcomesSurviveErasure:
    def test_an_erased_placed_candidate_still_counts(self, client, keys):
        coach, employer = keys["coach_a"], keys["employer_x"]
        vacancy = create(client, "/api/v1/vacancies", vacancy_payload(), employer)
        candidate = create(client, "/api/v1/candidates", candidate_payload(), coach)
        propose_and_set(
            client,
            coach,
            employer,
            vacancy_id=vacancy["id"],
            candidate_id=candidate["id"],
            steps=["interview", "hired"],
        )
        before = client.get(REPORT, headers=keys["admin"].headers).json()["indicators"]
        assert (
            client.delete(f"/api/v1/candidates/{candidate['id']}", headers=coach.headers).status_code == 204
        )
        after = client.get(REPORT, headers=keys["admin"].headers).json()["indicators"]
        assert before["candidates_placed"] == after["candidates_placed"] == 1
        assert before["uitstroom_naar_werk"] == after["uitstroom_naar_werk"] == 1
