"""Bad input is a 4xx problem+json, never a 500, and never changes what is stored."""

from __future__ import annotations

import pytest

from service.validation import bsn_is_valid
from tests.conftest import candidate_payload, vacancy_payload

BAD_CANDIDATES = [
    ("wrong type for hours", {"hours_min": "veel"}),
    ("hours out of range", {"hours_max": 80}),
    ("hours max below min", {"hours_min": 30, "hours_max": 10}),
    ("travel radius out of range", {"max_travel_km": 500}),
    ("negative travel radius", {"max_travel_km": -1}),
    ("too long name", {"given_name": "x" * 101}),
    ("too long external ref", {"external_ref": "x" * 65}),
    ("NUL byte in name", {"family_name": "Jan\x00sen"}),
    ("NUL byte in competence", {"competences": [{"label": "heftruck\x00"}]}),
    ("unknown field", {"nationality": "NL"}),
    ("bad BSN check digit", {"bsn": "123456780"}),
    ("BSN not digits", {"bsn": "12345678a"}),
    ("bad postcode format", {"postcode": "ABCD"}),
    ("unknown postcode", {"postcode": "0000 AA"}),
    ("German postcode that does not exist", {"postcode": "00001", "country": "DE"}),
    ("unknown language level", {"languages": {"nl": "5F"}}),
    ("unknown language", {"languages": {"fr": "B1"}}),
    ("unknown licence", {"driving_licences": ["Z"]}),
    ("too many competences", {"competences": [{"label": f"c{n}"} for n in range(101)]}),
    ("bad municipality code", {"municipality": "Enschede"}),
    ("bad sector", {"sectors": ["ruimtevaart"]}),
    ("experience years out of range", {"experience": [{"occupation": {"label": "kok"}, "years": 99}]}),
    ("empty label", {"competences": [{"label": ""}]}),
    ("huge number", {"hours_min": 10**30}),
]


class TestCandidateInput:
    @pytest.mark.parametrize(("description", "change"), BAD_CANDIDATES, ids=[c[0] for c in BAD_CANDIDATES])
    def test_bad_candidate_is_422_problem(self, client, keys, description, change):
        response = client.post(
            "/api/v1/candidates", json=candidate_payload(**change), headers=keys["coach_a"].headers
        )
        assert response.status_code == 422, (description, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert {"type", "title", "status", "detail"} <= problem.keys()
        assert "123456780" not in response.text  # rejected BSNs are not echoed

    def test_rejected_update_leaves_stored_candidate_alone(self, client, keys):
        coach = keys["coach_a"]
        created = client.post(
            "/api/v1/candidates", json=candidate_payload(external_ref="KEEP"), headers=coach.headers
        )
        cid = created.json()["id"]
        bad = client.put(
            f"/api/v1/candidates/{cid}",
            json=candidate_payload(external_ref="KEEP", postcode="0000 AA"),
            headers=coach.headers,
        )
        assert bad.status_code == 422
        after = client.get(f"/api/v1/candidates/{cid}", headers=coach.headers).json()
        assert after["version"] == 1
        assert after["postcode"] == "7511 AB"

    def test_not_json_is_422(self, client, keys):
        response = client.post(
            "/api/v1/candidates",
            content=b"{not json",
            headers={**keys["coach_a"].headers, "content-type": "application/json"},
        )
        assert response.status_code == 422

    def test_body_size_limit_is_413(self, client, keys):
        response = client.post(
            "/api/v1/candidates",
            content=b"x" * 2_000_000,
            headers={**keys["coach_a"].headers, "content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")

    def test_nul_in_query_is_400(self, client, keys):
        response = client.get("/api/v1/candidates?q=a%00b", headers=keys["coach_a"].headers)
        assert response.status_code == 400

    def test_bad_id_is_422_not_500(self, client, keys):
        assert client.get("/api/v1/candidates/not-a-uuid", headers=keys["coach_a"].headers).status_code == 422

    def test_bad_if_match_is_422(self, client, keys):
        coach = keys["coach_a"]
        cid = client.post("/api/v1/candidates", json=candidate_payload(), headers=coach.headers).json()["id"]
        response = client.put(
            f"/api/v1/candidates/{cid}",
            json=candidate_payload(),
            headers={**coach.headers, "If-Match": "banana"},
        )
        assert response.status_code == 422


BAD_VACANCIES = [
    ("title too long", {"title": "t" * 201}),
    ("description too long", {"description": "d" * 20_001}),
    ("positions zero", {"positions": 0}),
    ("positions too many", {"positions": 1001}),
    ("bad contract", {"contract": "forever"}),
    ("bad closes_at", {"closes_at": "gisteren"}),
    ("unknown field", {"salary_secret": 1}),
    ("NUL in title", {"title": "Chauffeur\x00"}),
    ("bad German postcode", {"postcode": "4859", "country": "DE"}),
    ("too many required competences", {"competences_required": [{"label": f"c{n}"} for n in range(51)]}),
]


class TestVacancyInput:
    @pytest.mark.parametrize(("description", "change"), BAD_VACANCIES, ids=[c[0] for c in BAD_VACANCIES])
    def test_bad_vacancy_is_422_problem(self, client, keys, description, change):
        response = client.post(
            "/api/v1/vacancies", json=vacancy_payload(**change), headers=keys["employer_x"].headers
        )
        assert response.status_code == 422, (description, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


class TestBsnCheck:
    @pytest.mark.parametrize(
        ("bsn", "valid"),
        [
            ("111222333", True),
            ("123456782", True),
            ("123456780", False),
            ("000000000", False),
            ("12345678", False),
            ("1234567890", False),
            ("abcdefghi", False),
        ],
    )
    def test_eleven_check(self, bsn, valid):
        assert bsn_is_valid(bsn) is valid
