"""The synthetic data generator: deterministic, valid against the real request models, well spread."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.candidates.schemas import CandidateIn
from service.demo import (
    de_postcodes,
    demo_dataset,
    generate_candidates,
    generate_vacancies,
    twente_postcodes,
    valid_bsn,
)
from service.demo import vocab as V
from service.vacancies.schemas import VacancyIn
from service.validation import bsn_is_valid

ROOT = Path(__file__).resolve().parents[2]
NL_POSTCODE = re.compile(r"^[1-9][0-9]{3} [A-Z]{2}$")
DE_POSTCODE = re.compile(r"^[0-9]{5}$")


def _dump(items: Any) -> bytes:
    return json.dumps(list(items), ensure_ascii=False, sort_keys=False).encode()


def _api_body(vacancy: dict[str, Any]) -> dict[str, Any]:
    """The vacancy as POSTed: ``employer_name`` selects the owner and is not part of the body."""
    return {k: v for k, v in vacancy.items() if k != "employer_name"}


@pytest.fixture(scope="module")
def candidates() -> list[dict[str, Any]]:
    return list(generate_candidates(3000, seed=11))


@pytest.fixture(scope="module")
def vacancies() -> list[dict[str, Any]]:
    # Above 800 vacancies generated employers join the 32 curated ones.
    return list(generate_vacancies(2000, seed=11))


class TestDeterminism:
    def test_same_seed_gives_identical_bytes(self) -> None:
        assert _dump(generate_candidates(400, seed=5)) == _dump(generate_candidates(400, seed=5))
        assert _dump(generate_vacancies(900, seed=5)) == _dump(generate_vacancies(900, seed=5))

    def test_other_seed_gives_other_data(self) -> None:
        assert _dump(generate_candidates(50, seed=5)) != _dump(generate_candidates(50, seed=6))
        assert _dump(generate_vacancies(50, seed=5)) != _dump(generate_vacancies(50, seed=6))

    def test_shorter_run_is_a_prefix_of_a_longer_one(self) -> None:
        assert list(generate_candidates(30, seed=3)) == list(generate_candidates(300, seed=3))[:30]

    def test_demo_dataset_is_stable(self) -> None:
        assert _dump(demo_dataset()[0]) == _dump(demo_dataset(seed=2026)[0])
        assert _dump(demo_dataset()[1]) == _dump(demo_dataset(seed=2026)[1])

    def test_generators_are_lazy_streams(self) -> None:
        stream = generate_candidates(10**6, seed=1)
        assert next(stream)["external_ref"].startswith("KL-")


class TestValidBsn:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("111222333", True),
            ("123456782", True),
            ("123456789", False),
            ("000000000", False),
            ("11122233", False),
            ("1112223333", False),
            ("11122233a", False),
            ("١١١٢٢٢٣٣٣", False),  # Arabic-Indic digits are digits to str.isdigit, not to a BSN
            (" 11122233", False),
        ],
    )
    def test_eleven_check(self, value: str, expected: bool) -> None:
        assert valid_bsn(value) is expected

    def test_generated_bsns_pass_both_checks_and_are_unique(self, candidates: list[dict[str, Any]]) -> None:
        bsns = [c["bsn"] for c in candidates]
        assert all(valid_bsn(b) and bsn_is_valid(b) for b in bsns)
        assert len(set(bsns)) == len(bsns)


class TestCandidates:
    def test_every_candidate_is_a_valid_request_body(self, candidates: list[dict[str, Any]]) -> None:
        for candidate in candidates:
            CandidateIn.model_validate(candidate)

    def test_postcodes_are_real_twente_pc4s_of_the_own_municipality(
        self, candidates: list[dict[str, Any]]
    ) -> None:
        pc4s = twente_postcodes()
        assert set(pc4s) == set(V.TWENTE_MUNICIPALITIES)
        for c in candidates:
            assert c["country"] == "NL"
            assert NL_POSTCODE.match(c["postcode"]), c["postcode"]
            assert c["postcode"][:4] in pc4s[c["municipality"]]
            assert c["postcode"][5:] not in {"SA", "SD", "SS"}

    def test_postcodes_agree_with_the_shipped_gazetteer(self) -> None:
        with (ROOT / "data" / "geo" / "postcodes_nl.csv").open(encoding="utf-8", newline="") as fh:
            gazetteer = {row["postcode"]: row["municipality_code"] for row in csv.DictReader(fh)}
        for code, pc4s in twente_postcodes().items():
            for pc4 in pc4s:
                assert gazetteer.get(pc4) == code, pc4

    def test_bounds_and_enums(self, candidates: list[dict[str, Any]]) -> None:
        for c in candidates:
            assert 0 <= c["hours_min"] <= c["hours_max"] <= 48
            assert 0 <= c["max_travel_km"] <= 200
            assert len(c["desired_occupations"]) <= 10
            assert 1 <= len(c["competences"]) <= 100
            assert len(c["experience"]) <= 30
            assert len(c["certificates"]) <= 30
            assert all(len(x["label"]) <= 200 for x in c["competences"] + c["desired_occupations"])
            assert len(c["given_name"]) <= 100
            assert len(c["family_name"]) <= 100
            assert len(c["external_ref"]) <= 64
            assert c["education_level"] in V.EDUCATION_LEVELS
            assert c["support"] in V.SUPPORT_LEVELS
            assert c["status"] in V.CANDIDATE_STATUSES
            assert set(c["sectors"]) <= set(V.SECTORS)
            assert c["sectors"]
            assert set(c["driving_licences"]) <= set(V.DRIVING_LICENCES)
            assert "NL" in c["work_countries"]
            assert set(c["work_countries"]) <= {"NL", "DE"}
            assert c["languages"]["nl"] in V.NL_LEVELS + V.CEFR_LEVELS
            assert set(c["languages"]) <= {"nl", "de", "en"}

    def test_lorry_licences_imply_a_car_licence(self, candidates: list[dict[str, Any]]) -> None:
        for c in candidates:
            if {"C", "CE", "BE", "D"} & set(c["driving_licences"]):
                assert "B" in c["driving_licences"]
            if "CE" in c["driving_licences"]:
                assert "C" in c["driving_licences"]

    def test_external_refs_are_unique_per_municipality(self, candidates: list[dict[str, Any]]) -> None:
        keys = [(c["municipality"], c["external_ref"]) for c in candidates]
        assert len(set(keys)) == len(keys)

    def test_municipalities_can_be_restricted(self) -> None:
        some = list(generate_candidates(200, seed=1, municipalities=["GM0153", "GM0168"]))
        assert {c["municipality"] for c in some} == {"GM0153", "GM0168"}

    @pytest.mark.parametrize("codes", [["GM0363"], [], ["enschede"]])
    def test_unknown_municipalities_are_refused_at_the_call(self, codes: list[str]) -> None:
        with pytest.raises(ValueError, match="Twente"):
            generate_candidates(1, seed=1, municipalities=codes)

    def test_negative_counts_are_refused(self) -> None:
        with pytest.raises(ValueError, match=">= 0"):
            generate_candidates(-1, seed=1)
        with pytest.raises(ValueError, match=">= 0"):
            generate_vacancies(-1, seed=1)

    @settings(max_examples=15, deadline=None)
    @given(seed=st.integers(min_value=-(2**63), max_value=2**63))
    def test_any_seed_gives_valid_candidates(self, seed: int) -> None:
        for candidate in generate_candidates(20, seed=seed):
            CandidateIn.model_validate(candidate)


class TestVacancies:
    def test_every_vacancy_is_a_valid_request_body(self, vacancies: list[dict[str, Any]]) -> None:
        for vacancy in vacancies:
            VacancyIn.model_validate(_api_body(vacancy))

    def test_locations_are_real_places_on_either_side_of_the_border(
        self, vacancies: list[dict[str, Any]]
    ) -> None:
        nl = set().union(*twente_postcodes().values())
        de = de_postcodes()
        for v in vacancies:
            if v["country"] == "NL":
                assert NL_POSTCODE.match(v["postcode"])
                assert v["postcode"][:4] in nl
            else:
                assert DE_POSTCODE.match(v["postcode"])
                assert de[v["postcode"]] == v["city"]

    def test_german_vacancies_ask_for_german(self, vacancies: list[dict[str, Any]]) -> None:
        german = [v for v in vacancies if v["country"] == "DE"]
        assert german
        for v in german:
            assert v["languages_required"]["de"] in V.CEFR_LEVELS
            assert "(m/w/d)" in v["title"]
            assert not v["garantiebaan"]
            assert not v["wage_subsidy_possible"]

    def test_bounds_and_enums(self, vacancies: list[dict[str, Any]]) -> None:
        for v in vacancies:
            assert 3 <= len(v["competences_required"]) <= 8
            assert len(v["competences_desired"]) <= 50
            assert 0 <= v["hours_min"] <= v["hours_max"] <= 48
            assert 1 <= v["positions"] <= 1000
            assert len(v["title"]) <= 200
            assert len(v["description"]) <= 20_000
            assert v["sector"] in V.SECTORS
            assert v["contract"] in V.CONTRACTS
            assert v["status"] in V.VACANCY_STATUSES
            assert v.get("education_level_min", "none") in V.EDUCATION_LEVELS
            assert "2026-01-01" <= v.get("closes_at", "2026-01-01") <= "2027-12-31"
            assert v["occupation"]["code"].startswith("http://data.europa.eu/esco/occupation/")

    def test_open_vacancies_close_in_the_future_of_the_data_set(
        self, vacancies: list[dict[str, Any]]
    ) -> None:
        assert all(
            v["closes_at"] >= "2026-12-01" for v in vacancies if v["status"] == "open" and "closes_at" in v
        )

    def test_external_refs_are_unique_per_employer(self, vacancies: list[dict[str, Any]]) -> None:
        keys = [(v["employer_name"], v["external_ref"]) for v in vacancies]
        assert len(set(keys)) == len(keys)

    def test_large_runs_add_employers(self, vacancies: list[dict[str, Any]]) -> None:
        names = {v["employer_name"] for v in vacancies}
        assert len(names) > len(V.DEMO_EMPLOYERS)
        assert {name for name, *_ in V.DEMO_EMPLOYERS} <= names


class TestDemoDataset:
    @pytest.fixture(scope="class")
    def demo(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return demo_dataset()

    def test_size_and_employers(self, demo: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        candidates, vacancies = demo
        assert len(candidates) == 300
        assert len(vacancies) == 200
        assert {v["employer_name"] for v in vacancies} <= {name for name, *_ in V.DEMO_EMPLOYERS}

    def test_both_countries_and_the_shortage_sectors(
        self, demo: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        candidates, vacancies = demo
        countries = Counter(v["country"] for v in vacancies)
        assert 0.08 <= countries["DE"] / len(vacancies) <= 0.25
        sectors = {v["sector"] for v in vacancies}
        assert {"logistiek", "zorg", "ict", "techniek"} <= sectors
        assert {"logistiek", "zorg"} <= {s for c in candidates for s in c["sectors"]}
        assert any("DE" in c["work_countries"] for c in candidates)
        assert len({c["municipality"] for c in candidates}) >= 10

    def test_realistic_spread(self, demo: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        candidates, vacancies = demo
        nl_levels = Counter(c["languages"]["nl"] for c in candidates)
        assert nl_levels["2F"] + nl_levels["3F"] > len(candidates) / 2
        assert nl_levels["1F"] + nl_levels["A2"] > 0  # newcomers, statushouders
        assert 0 < sum(c["target_group_register"] for c in candidates) < len(candidates) / 3
        assert {"direct", "with_support", "wage_subsidy"} == {c["support"] for c in candidates}
        required = Counter(cert for v in vacancies for cert in v["certificates_required"])
        assert required["VOG"] > 0
        assert required["heftruck"] > 0
        assert any("C" in v["driving_licences_required"] for v in vacancies)
        assert any(v["garantiebaan"] for v in vacancies)
        assert any(v["wage_subsidy_possible"] for v in vacancies)
        held = Counter(cert for c in candidates for cert in c["certificates"])
        assert held["VCA-basis"] > 0
        assert held["VOG"] > 0


class TestVocabulary:
    def test_shipped_file_is_small_and_attributed(self) -> None:
        path = ROOT / "service" / "demo" / "data" / "vocab.json"
        assert path.stat().st_size < 1_000_000
        assert "ESCO classification of the European Commission" in json.loads(path.read_text())["attribution"]

    def test_every_curated_occupation_has_skills(self) -> None:
        vocab = json.loads((ROOT / "service" / "demo" / "data" / "vocab.json").read_text())
        for items in V.OCCUPATIONS.values():
            for label, _ in items:
                assert len(vocab["occupations"][label]["essential"]) >= 3, label
