"""Golden explanations for canonical pairs, with the shipped taxonomy and real postcodes.

Details of factors that do not depend on the taxonomy (language, travel, hours, education, licences,
certificates, the hard-requirement penalty) are compared word for word; competence and occupation details are
checked for their key statements, so that taxonomy improvements do not break these tests.
"""

from __future__ import annotations

import pytest

from matching.engine import HARD_REQUIREMENTS, MatchEngine
from matching.geo import locate
from matching.types import MatchResult
from tests.matching.conftest import factor, make_candidate, make_vacancy, match_one


def at(postcode: str, country: str = "NL") -> tuple[float, float]:
    location = locate(postcode, country)
    assert location is not None
    return location.lat, location.lon


def details(result: MatchResult) -> dict[str, str]:
    return {e.factor: e.detail for e in result.explanation}


def assert_sums(result: MatchResult) -> None:
    assert round(sum(e.contribution for e in result.explanation), 2) == result.score


class TestGoldenExplanations:
    def test_reach_truck_driver_in_almelo(self, real_engine: MatchEngine) -> None:
        candidate = make_candidate(
            competences=("reachtruck besturen", "voorraad bijhouden"),
            desired=("reachtruckchauffeur",),
            at=at("7607"),
            certificates=("reachtruck",),
        )
        vacancy = make_vacancy(
            title="Reachtruckchauffeur",
            occupation="reachtruckchauffeur",
            required=("reachtruck besturen", "voorraad bijhouden"),
            certificates_required=("Reachtruck", "VCA-basis"),
            at=at("7601"),
            languages_required={"nl": "1F"},
        )
        result = match_one(real_engine, candidate, vacancy)
        d = details(result)
        assert [u.detail for u in result.unmet] == ["VCA-basis ontbreekt"]
        assert [u.code for u in result.unmet] == ["certificate:VCA-basis"]
        assert d["certificates"] == "VCA-basis ontbreekt."
        assert d["language"] == "Nederlands 1F vereist: voldoet (2F)."
        assert d["travel"] == "1,1 km (max. 25 km): binnen bereik."
        assert d["hours"] == "Vacature 32–40 uur; kandidaat zoekt 24–40 uur: past."
        assert d[HARD_REQUIREMENTS] == "1 harde eis niet vervuld (VCA-basis ontbreekt): score × 0,35."
        assert "hetzelfde beroep" in d["occupation"]
        assert d["competences"].startswith("2 van 2 vereiste competenties")
        assert factor(result, HARD_REQUIREMENTS).contribution < 0
        assert_sums(result)

    def test_helpende_zorg_with_2f(self, real_engine: MatchEngine) -> None:
        candidate = make_candidate(
            competences=("persoonlijke hygiëne van cliënten ondersteunen",),
            desired=("helpende zorg en welzijn",),
            languages={"nl": "2F"},
            at=at("7551"),
            certificates=("VOG",),
            sectors=("zorg",),
            hours=(16, 32),
        )
        vacancy = make_vacancy(
            title="Helpende zorg en welzijn",
            occupation="helpende zorg en welzijn",
            sector="zorg",
            required=(),
            description="Je ondersteunt cliënten bij de persoonlijke verzorging.",
            languages_required={"nl": "2F"},
            certificates_required=("VOG",),
            at=at("7555"),
            hours=(24, 32),
        )
        result = match_one(real_engine, candidate, vacancy)
        d = details(result)
        assert result.unmet == ()
        assert d["language"] == "Nederlands 2F vereist: voldoet (2F)."
        assert d["certificates"] == "VOG vereist: aanwezig."
        assert d["hours"] == "Vacature 24–32 uur; kandidaat zoekt 16–32 uur: past."
        assert d["education"] == "Geen opleidingseis."
        assert d["competences"].startswith("Geen competentielijst; afgeleid uit beroep en tekst")
        assert "hetzelfde beroep" in d["occupation"]
        assert HARD_REQUIREMENTS not in d
        assert_sums(result)

    def test_junior_developer(self, real_engine: MatchEngine) -> None:
        candidate = make_candidate(
            competences=("Python", "SQL"),
            desired=("softwareontwikkelaar",),
            education_level="mbo4",
            languages={"nl": "3F", "en": "B2"},
            at=at("7511"),
            hours=(32, 40),
            driving_licences=(),
            sectors=("ict",),
        )
        vacancy = make_vacancy(
            title="Junior developer",
            occupation="softwareontwikkelaar",
            sector="ict",
            required=("Python", "SQL"),
            desired=("JavaScript",),
            education_level_min="hbo",
            languages_required={"en": "B2"},
            at=at("7521"),
            hours=(36, 40),
        )
        result = match_one(real_engine, candidate, vacancy)
        d = details(result)
        assert result.unmet == ()
        assert d["language"] == "Engels B2 vereist: voldoet (B2)."
        assert d["education"] == (
            "Minimaal hbo gevraagd; kandidaat heeft mbo 4 (lager, diploma-erkenning of ervaring kan tellen)."
        )
        assert factor(result, "education").score == pytest.approx(0.75)
        assert d["driving_licences"] == "Geen rijbewijs vereist."
        assert d["competences"].startswith("2 van 2 vereiste competenties; 0 van 1 gewenste")
        assert_sums(result)

    def test_lagerlogistik_job_in_gronau(self, real_engine: MatchEngine) -> None:
        candidate = make_candidate(
            competences=("orders verzamelen",),
            desired=("magazijnmedewerker",),
            languages={"nl": "2F", "de": "B1"},
            at=at("7511"),
            work_countries=("NL", "DE"),
            driving_licences=("CE",),
        )
        vacancy = make_vacancy(
            title="Fachkraft für Lagerlogistik (m/w/d)",
            occupation="Fachkraft für Lagerlogistik",
            required=("Kommissionieren",),
            languages_required={"de": "B1"},
            driving_licences_required=("B",),
            at=at("48599", "DE"),
            country="DE",
        )
        result = match_one(real_engine, candidate, vacancy)
        d = details(result)
        assert result.unmet == ()
        assert d["language"] == "Duits B1 vereist: voldoet (B1)."
        assert d["travel"] == "9,8 km (max. 25 km): binnen bereik."
        assert d["driving_licences"] == "Rijbewijs B vereist: aanwezig."
        assert_sums(result)

    def test_gronau_for_a_candidate_who_works_only_in_nl(self, real_engine: MatchEngine) -> None:
        candidate = make_candidate(desired=("magazijnmedewerker",), at=at("7511"), work_countries=("NL",))
        vacancy = make_vacancy(
            occupation="Fachkraft für Lagerlogistik",
            title="Lagerist",
            at=at("48599", "DE"),
            country="DE",
            languages_required={},
        )
        result = match_one(real_engine, candidate, vacancy)
        assert [u.detail for u in result.unmet] == ["Vacature in Duitsland; kandidaat wil daar niet werken"]
        assert details(result)["travel"] == (
            "9,8 km (max. 25 km): vacature in Duitsland; kandidaat wil daar niet werken."
        )
        assert_sums(result)
