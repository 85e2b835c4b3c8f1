"""Taxonomy search over the real app: occupations and skills in NL/DE/EN for every authenticated role."""

from __future__ import annotations

import pytest

OCCUPATIONS = "/api/v1/taxonomy/occupations"
SKILLS = "/api/v1/taxonomy/skills"


class TestTaxonomySearch:
    @pytest.mark.parametrize("role", ["coach_a", "employer_x", "admin", "batch"])
    def test_any_authenticated_role(self, client, keys, role):
        response = client.get(
            OCCUPATIONS, params={"q": "magazijnmedewerker", "lang": "nl"}, headers=keys[role].headers
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert items
        assert set(items[0]) >= {"uri", "label", "kind"}
        assert items[0]["kind"] in {"occupation", "isco_group"}
        assert items[0]["uri"].startswith("http://data.europa.eu/esco/")

    def test_unauthenticated_is_401(self, client):
        assert client.get(OCCUPATIONS, params={"q": "kok"}).status_code == 401

    @pytest.mark.parametrize(
        ("q", "lang", "expect"),
        [
            ("heftruckchauffeur", "nl", "heftruck"),
            ("Lagerarbeiter", "de", "lager"),
            ("nurse", "en", "nurse"),
            ("verpleegkundige", "nl", "verpleegkundige"),
        ],
    )
    def test_occupations_in_three_languages(self, client, keys, q, lang, expect):
        items = client.get(
            OCCUPATIONS, params={"q": q, "lang": lang, "limit": 5}, headers=keys["coach_a"].headers
        ).json()["items"]
        assert 0 < len(items) <= 5
        assert any(expect in item["label"].lower() for item in items), items

    def test_skills(self, client, keys):
        items = client.get(
            SKILLS,
            params={"q": "heftruck besturen", "lang": "nl", "limit": 3},
            headers=keys["employer_x"].headers,
        ).json()["items"]
        assert 0 < len(items) <= 3
        assert all(item["kind"] == "skill" for item in items)
        assert all(item["uri"].startswith("http://data.europa.eu/esco/skill/") for item in items)

    @pytest.mark.parametrize(
        "params",
        [
            {"q": ""},
            {"q": "   "},
            {"q": "x" * 201},
            {"q": "kok", "limit": 51},
            {"q": "kok", "limit": 0},
            {"q": "kok", "lang": "fr"},
            {},
        ],
    )
    def test_bounds(self, client, keys, params):
        for path in (OCCUPATIONS, SKILLS):
            assert client.get(path, params=params, headers=keys["coach_a"].headers).status_code == 422

    def test_nul_byte_is_rejected(self, client, keys):
        # The request guard may refuse it before validation does (400); either way nothing is searched.
        response = client.get(OCCUPATIONS, params={"q": "a\x00b"}, headers=keys["coach_a"].headers)
        assert response.status_code in (400, 422)

    def test_limit_50_is_allowed(self, client, keys):
        response = client.get(SKILLS, params={"q": "zorg", "limit": 50}, headers=keys["coach_a"].headers)
        assert response.status_code == 200
        assert len(response.json()["items"]) <= 50
