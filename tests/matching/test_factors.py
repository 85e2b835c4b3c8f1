"""Table-driven tests per factor: one row per case, with a description."""

from __future__ import annotations

from typing import Any

import pytest

from matching.engine import MatchEngine
from tests.matching.conftest import ENSCHEDE, GRONAU, factor, make_candidate, make_vacancy, match_one


def _case(
    description: str,
    expected: float,
    *,
    unmet: int = 0,
    cand: dict[str, Any] | None = None,
    vac: dict[str, Any] | None = None,
) -> Any:
    return pytest.param(cand or {}, vac or {}, expected, unmet, id=description)


class TestCompetences:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case(
                "all required held, same profile",
                1.0,
                cand={"competences": ("reachtruck besturen", "goederen laden")},
                vac={
                    "occupation": "reachtruckchauffeur",
                    "required": ("reachtruck besturen", "goederen laden"),
                },
            ),
            _case(
                "related skill counts half (heftruck for reachtruck)",
                0.25 * 0.75 + 0.75 * 1.0,
                cand={"competences": ("heftruck besturen", "goederen laden")},
                vac={
                    "occupation": "reachtruckchauffeur",
                    "required": ("reachtruck besturen", "goederen laden"),
                },
            ),
            _case(
                "nothing in common, unlinked occupation: coverage only",
                0.0,
                cand={"competences": ("Python",)},
                vac={"occupation": "onbekend beroep", "title": "onbekend beroep"},
            ),
            _case(
                "required and desired: 3/4 required share",
                0.75 * 0.5 + 0.25 * 1.0,
                cand={"competences": ("SQL", "Git")},
                vac={
                    "occupation": "onbekend",
                    "title": "onbekend",
                    "required": ("Python", "SQL"),
                    "desired": ("Git",),
                },
            ),
            _case(
                "no lists and no occupation: neutral",
                0.5,
                vac={"occupation": None, "title": "iets", "required": ()},
            ),
            _case(
                "text-only vacancy: inferred from occupation profile",
                0.25 * (1 / 3) + 0.75 * 0.5,
                cand={"competences": ("Python", "koken")},
                vac={"occupation": "softwareontwikkelaar", "title": "softwareontwikkelaar", "required": ()},
            ),
            _case(
                "unknown labels still match as text",
                1.0,
                cand={"competences": ("Kraanmachinist certificaat",)},
                vac={
                    "occupation": "onbekend",
                    "title": "onbekend",
                    "required": ("kraanmachinist  certificaat",),
                },
            ),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "competences").score == pytest.approx(expected, abs=1e-4)


class TestOccupation:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case("desired occupation is the vacancy's", 1.0, cand={"desired": ("reachtruckchauffeur",)}),
            _case("same ISCO unit group (8344)", 0.625, cand={"desired": ("heftruckchauffeur",)}),
            _case(
                "same ISCO minor group (432x)",
                0.25,
                cand={"desired": ("expeditiemedewerker",)},
                vac={"occupation": "magazijnmedewerker", "title": "magazijnmedewerker"},
            ),
            _case(
                "same sub-major group (25xx)",
                0.0625,
                cand={"desired": ("databasebeheerder",)},
                vac={"occupation": "softwareontwikkelaar", "title": "softwareontwikkelaar"},
            ),
            _case(
                "only experience in the occupation: 7/8",
                0.875,
                cand={"desired": (), "experience": (("reachtruckchauffeur", 3),)},
            ),
            _case("unrelated", 0.0, cand={"desired": ("helpende zorg",)}),
            _case("nothing given", 0.0, cand={"desired": ()}),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "occupation").score == pytest.approx(expected)


class TestLanguage:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case(
                "2F meets 2F", 1.0, cand={"languages": {"nl": "2F"}}, vac={"languages_required": {"nl": "2F"}}
            ),
            _case(
                "B1 counts as 2F",
                1.0,
                cand={"languages": {"nl": "B1"}},
                vac={"languages_required": {"nl": "2F"}},
            ),
            _case(
                "1F for 2F: one step short",
                0.75,
                unmet=1,
                cand={"languages": {"nl": "1F"}},
                vac={"languages_required": {"nl": "2F"}},
            ),
            _case(
                "no German for B1: three steps short",
                0.25,
                unmet=1,
                cand={"languages": {"nl": "3F"}},
                vac={"languages_required": {"de": "B1"}},
            ),
            _case(
                "two languages, one short",
                (1.0 + 0.75) / 2,
                unmet=1,
                cand={"languages": {"nl": "3F", "de": "A2"}},
                vac={"languages_required": {"nl": "2F", "de": "B1"}},
            ),
            _case("no requirement", 1.0, cand={"languages": {}}, vac={"languages_required": {}}),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "language").score == pytest.approx(expected)
        assert len([u for u in result.unmet if u.code.startswith("language:")]) == unmet


class TestTravel:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case("same place", 1.0),
            _case("Almelo → Enschede (~22 km) within 25 km", None, vac={"at": ENSCHEDE}),
            _case(
                "Almelo → Enschede beyond a 10 km radius",
                0.0,
                unmet=1,
                cand={"max_travel_km": 10},
                vac={"at": ENSCHEDE},
            ),
            _case(
                "Gronau, candidate works only in NL",
                0.0,
                unmet=1,
                cand={"at": ENSCHEDE},
                vac={"at": GRONAU, "country": "DE"},
            ),
            _case(
                "Gronau, candidate works in NL and DE",
                None,
                cand={"at": ENSCHEDE, "work_countries": ("NL", "DE")},
                vac={"at": GRONAU, "country": "DE"},
            ),
            _case(
                "radius above the sensible maximum is capped (100 km)",
                None,
                cand={"max_travel_km": 200},
                vac={"at": ENSCHEDE},
            ),
        ],
    )
    def test_cases(
        self,
        engine: MatchEngine,
        cand: dict[str, Any],
        vac: dict[str, Any],
        expected: float | None,
        unmet: int,
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        score = factor(result, "travel").score
        if expected is None:
            limit = min(make_candidate(**cand).max_travel_km, 100)
            assert score == pytest.approx(1.0 - 0.5 * result.distance_km / limit, abs=1e-4)
            assert 0.5 <= score < 1.0
        else:
            assert score == pytest.approx(expected)
        assert (
            len(
                [
                    u
                    for u in result.unmet
                    if u.code in ("travel_distance",) or u.code.startswith("work_country")
                ]
            )
            == unmet
        )


class TestHours:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case("vacancy inside candidate range", 1.0, cand={"hours": (24, 40)}, vac={"hours": (32, 40)}),
            _case("partial overlap", (4 + 4) / (16 + 4), cand={"hours": (28, 40)}, vac={"hours": (16, 32)}),
            _case("touching ranges", 4 / 12, cand={"hours": (24, 40)}, vac={"hours": (16, 24)}),
            _case("far apart", 0.0, cand={"hours": (32, 40)}, vac={"hours": (8, 16)}),
            _case("single value inside", 1.0, cand={"hours": (24, 40)}, vac={"hours": (32, 32)}),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "hours").score == pytest.approx(expected, abs=1e-4)
        assert not result.unmet


class TestEducation:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case("no minimum", 1.0, vac={"education_level_min": None}),
            _case("meets mbo2", 1.0, cand={"education_level": "mbo3"}, vac={"education_level_min": "mbo2"}),
            _case(
                "vmbo for mbo2: one step short, soft",
                0.75,
                cand={"education_level": "vmbo"},
                vac={"education_level_min": "mbo2"},
            ),
            _case(
                "unknown education: neutral",
                0.5,
                cand={"education_level": None},
                vac={"education_level_min": "mbo2"},
            ),
            _case(
                "havo/vwo equals mbo4",
                1.0,
                cand={"education_level": "havo_vwo"},
                vac={"education_level_min": "mbo4"},
            ),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "education").score == pytest.approx(expected)
        assert not result.unmet


class TestDrivingLicences:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case("none required", 1.0, vac={"driving_licences_required": ()}),
            _case(
                "B held", 1.0, cand={"driving_licences": ("B",)}, vac={"driving_licences_required": ("B",)}
            ),
            _case(
                "CE implies B and C",
                1.0,
                cand={"driving_licences": ("CE",)},
                vac={"driving_licences_required": ("B", "C")},
            ),
            _case(
                "CE missing",
                0.0,
                unmet=1,
                cand={"driving_licences": ("B",)},
                vac={"driving_licences_required": ("CE",)},
            ),
            _case(
                "one of two missing",
                0.5,
                unmet=1,
                cand={"driving_licences": ("B",)},
                vac={"driving_licences_required": ("B", "D")},
            ),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "driving_licences").score == pytest.approx(expected)
        assert len([u for u in result.unmet if u.code.startswith("licence:")]) == unmet


class TestCertificates:
    @pytest.mark.parametrize(
        ("cand", "vac", "expected", "unmet"),
        [
            _case("none required", 1.0),
            _case(
                "VCA spelled differently",
                1.0,
                cand={"certificates": ("B-VCA",)},
                vac={"certificates_required": ("VCA-basis",)},
            ),
            _case(
                "VCA-VOL counts for VCA-basis",
                1.0,
                cand={"certificates": ("VCA VOL",)},
                vac={"certificates_required": ("VCA-basis",)},
            ),
            _case("VCA-basis missing", 0.0, unmet=1, vac={"certificates_required": ("VCA-basis",)}),
            _case(
                "heftruck held, VOG missing",
                0.5,
                unmet=1,
                cand={"certificates": ("heftruckcertificaat",)},
                vac={"certificates_required": ("heftruck", "VOG")},
            ),
        ],
    )
    def test_cases(
        self, engine: MatchEngine, cand: dict[str, Any], vac: dict[str, Any], expected: float, unmet: int
    ) -> None:
        result = match_one(engine, make_candidate(**cand), make_vacancy(**vac))
        assert factor(result, "certificates").score == pytest.approx(expected)
        assert len([u for u in result.unmet if u.code.startswith("certificate:")]) == unmet

    def test_missing_certificate_detail_says_what_closes_the_gap(self, engine: MatchEngine) -> None:
        result = match_one(engine, make_candidate(), make_vacancy(certificates_required=("VCA-basis",)))
        assert [u.detail for u in result.unmet] == ["VCA-basis ontbreekt"]
