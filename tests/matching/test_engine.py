"""Engine behaviour: properties, eligibility, determinism, index updates, batch = live = reference."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.algorithms import DEFAULT_ALGORITHM, AlgorithmConfig, get_algorithm
from matching.engine import MatchEngine
from matching.payloads import CANDIDATE_FIELDS, candidate_from_payload
from matching.reference import rank_vacancies_reference
from matching.types import CandidateFeatures, MatchFilters, VacancyFeatures
from tests.matching.conftest import ENSCHEDE, GRONAU, SKILLS, make_candidate, make_vacancy, match_one

SKILL_LABELS = sorted(SKILLS.values())
OCCUPATION_LABELS = [
    "reachtruckchauffeur",
    "heftruckchauffeur",
    "magazijnmedewerker",
    "helpende zorg",
    "softwareontwikkelaar",
    "onbekend beroep",
]
PLACES = [(52.3455, 6.6715), ENSCHEDE, GRONAU, (52.2658, 6.7931)]

candidates_st = st.builds(
    make_candidate,
    competences=st.lists(st.sampled_from(SKILL_LABELS), max_size=6, unique=True),
    desired=st.lists(st.sampled_from(OCCUPATION_LABELS), max_size=2, unique=True),
    languages=st.dictionaries(
        st.sampled_from(["nl", "de"]), st.sampled_from(["1F", "2F", "3F", "A2", "B1", "C1"])
    ),
    at=st.sampled_from(PLACES),
    max_travel_km=st.integers(0, 200),
    hours=st.tuples(st.integers(0, 24), st.integers(24, 48)),
    driving_licences=st.lists(st.sampled_from(["B", "C", "CE", "D"]), max_size=2, unique=True),
    certificates=st.lists(st.sampled_from(["VCA-basis", "heftruck", "VOG"]), max_size=2, unique=True),
    work_countries=st.sampled_from([("NL",), ("NL", "DE")]),
    education_level=st.sampled_from([None, "vmbo", "mbo2", "hbo"]),
)
vacancies_st = st.builds(
    make_vacancy,
    occupation=st.sampled_from([*OCCUPATION_LABELS, None]),
    required=st.lists(st.sampled_from(SKILL_LABELS), max_size=4, unique=True),
    desired=st.lists(st.sampled_from(SKILL_LABELS), max_size=2, unique=True),
    languages_required=st.dictionaries(
        st.sampled_from(["nl", "de"]), st.sampled_from(["1F", "2F", "B1", "B2"])
    ),
    at=st.sampled_from(PLACES),
    country=st.sampled_from(["NL", "DE"]),
    hours=st.tuples(st.integers(0, 24), st.integers(24, 40)),
    driving_licences_required=st.lists(st.sampled_from(["B", "CE"]), max_size=1),
    certificates_required=st.lists(st.sampled_from(["VCA-basis", "VOG"]), max_size=2, unique=True),
    education_level_min=st.sampled_from([None, "mbo2", "hbo"]),
)
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestProperties:
    @PROPERTY_SETTINGS
    @given(candidate=candidates_st, vacancy=vacancies_st)
    def test_score_bounds_and_explanation_sum(
        self, engine: MatchEngine, candidate: CandidateFeatures, vacancy: VacancyFeatures
    ) -> None:
        result = match_one(engine, candidate, vacancy)
        assert 0.0 <= result.score <= 100.0
        total = sum(round(e.contribution * 100) for e in result.explanation)
        assert total == round(result.score * 100)
        assert len(result.unmet) == len({(u.code, u.detail) for u in result.unmet})

    @PROPERTY_SETTINGS
    @given(candidate=candidates_st, vacancy=vacancies_st, pick=st.integers(0, 10))
    def test_adding_a_required_competence_never_lowers_the_score(
        self, engine: MatchEngine, candidate: CandidateFeatures, vacancy: VacancyFeatures, pick: int
    ) -> None:
        if not vacancy.competences_required:
            return
        added = vacancy.competences_required[pick % len(vacancy.competences_required)]
        better = dataclasses.replace(candidate, competences=(*candidate.competences, added))
        assert match_one(engine, better, vacancy).score >= match_one(engine, candidate, vacancy).score

    @PROPERTY_SETTINGS
    @given(
        candidate=candidates_st,
        vacancies=st.lists(vacancies_st, min_size=1, max_size=6),
        name=st.text(max_size=20),
        gender=st.sampled_from(["v", "m", "x", None]),
        birth_date=st.dates().map(str),
        nationality=st.sampled_from(["NL", "SY", "ER", "PL", "DE", "TR"]),
        health=st.booleans(),
        register=st.booleans(),
    )
    def test_protected_attributes_change_no_score_or_rank(
        self,
        engine: MatchEngine,
        candidate: CandidateFeatures,
        vacancies: list[VacancyFeatures],
        name: str,
        gender: str | None,
        birth_date: str,
        nationality: str,
        health: bool,
        register: bool,
    ) -> None:
        vacancies = [dataclasses.replace(v, id=f"v{i}", garantiebaan=False) for i, v in enumerate(vacancies)]
        index = engine.build_vacancy_index(vacancies)
        payload = _payload(candidate)
        protected = {
            "given_name": name,
            "family_name": name[::-1],
            "gender": gender,
            "birth_date": birth_date,
            "nationality": nationality,
            "health_restrictions": health,
            "bsn": "111222333",
            "support": "wage_subsidy",
        }
        plain = candidate_from_payload(payload, id="c")
        varied = candidate_from_payload({**payload, **protected}, id="c")
        assert plain == varied
        ranked = [(r.id, r.score, r.rank) for r in engine.rank_vacancies(plain, index)]
        assert ranked == [(r.id, r.score, r.rank) for r in engine.rank_vacancies(varied, index)]
        # The doelgroepregister flag is eligibility only: for ordinary vacancies it changes nothing.
        flagged = dataclasses.replace(plain, target_group_register=register)
        assert ranked == [(r.id, r.score, r.rank) for r in engine.rank_vacancies(flagged, index)]


def _payload(candidate: CandidateFeatures) -> dict[str, object]:
    return {
        "postcode": "7601 AB",
        "country": "NL",
        "max_travel_km": candidate.max_travel_km,
        "hours_min": candidate.hours_min,
        "hours_max": candidate.hours_max,
        "desired_occupations": [{"label": r.label} for r in candidate.desired_occupations],
        "competences": [{"label": r.label} for r in candidate.competences],
        "experience": [],
        "education_level": candidate.education_level,
        "languages": dict(candidate.languages),
        "driving_licences": sorted(candidate.driving_licences),
        "certificates": sorted(candidate.certificates),
        "work_countries": sorted(candidate.work_countries),
        "sectors": sorted(candidate.sectors),
        "target_group_register": False,
    }


class TestAllowListedInputs:
    PROTECTED = {
        "name",
        "given_name",
        "family_name",
        "bsn",
        "nationality",
        "gender",
        "age",
        "birth_date",
        "date_of_birth",
        "health",
        "health_restrictions",
        "support",
        "disability",
        "religion",
    }

    @pytest.mark.parametrize("cls", [CandidateFeatures, VacancyFeatures])
    def test_types_have_no_protected_fields(self, cls: type) -> None:
        names = {f.name for f in dataclasses.fields(cls)}
        assert not names & self.PROTECTED

    def test_types_cannot_carry_extra_attributes(self) -> None:
        candidate = make_candidate()
        with pytest.raises(TypeError):
            CandidateFeatures(
                **{
                    **{f.name: getattr(candidate, f.name) for f in dataclasses.fields(candidate)},
                    "nationality": "SY",
                }
            )
        with pytest.raises((AttributeError, TypeError)):
            candidate.nationality = "SY"  # type: ignore[attr-defined]

    def test_payload_allow_list_has_no_protected_field(self) -> None:
        assert not CANDIDATE_FIELDS & self.PROTECTED


class TestEligibility:
    def test_garantiebaan_only_for_doelgroepregister(self, engine: MatchEngine) -> None:
        index = engine.build_vacancy_index(
            [make_vacancy(id="gb", garantiebaan=True), make_vacancy(id="gewoon")]
        )
        outside = engine.rank_vacancies(make_candidate(target_group_register=False), index)
        inside = engine.rank_vacancies(make_candidate(target_group_register=True), index)
        assert [r.id for r in outside] == ["gewoon"]
        assert sorted(r.id for r in inside) == ["gb", "gewoon"]
        assert {r.id: r.score for r in inside}["gewoon"] == outside[0].score

    def test_rank_candidates_for_garantiebaan(self, engine: MatchEngine) -> None:
        index = engine.build_candidate_index(
            [make_candidate(id="a", target_group_register=True), make_candidate(id="b")]
        )
        assert [r.id for r in engine.rank_candidates(make_vacancy(garantiebaan=True), index)] == ["a"]


class TestRanking:
    def test_unmet_ranks_after_met_and_is_shown(self, engine: MatchEngine) -> None:
        met = make_vacancy(id="b-met", required=(), occupation="helpende zorg", title="helpende zorg")
        unmet = make_vacancy(id="a-unmet", certificates_required=("VCA-basis",))
        index = engine.build_vacancy_index([met, unmet])
        results = engine.rank_vacancies(make_candidate(), index)
        assert [r.id for r in results] == ["b-met", "a-unmet"]
        assert results[1].unmet
        assert [r.rank for r in results] == [1, 2]

    def test_ties_break_by_id_and_are_deterministic(self, engine: MatchEngine) -> None:
        vacancies = [make_vacancy(id=f"v{i:02d}") for i in (5, 3, 9, 1, 7)]
        index = engine.build_vacancy_index(vacancies)
        first = engine.rank_vacancies(make_candidate(), index, limit=3)
        assert [r.id for r in first] == ["v01", "v03", "v05"]
        assert first == engine.rank_vacancies(make_candidate(), index, limit=3)

    def test_filters(self, engine: MatchEngine) -> None:
        index = engine.build_vacancy_index(
            [
                make_vacancy(id="near"),
                make_vacancy(id="far", at=ENSCHEDE),
                make_vacancy(id="zorg", sector="zorg"),
                make_vacancy(id="de", at=GRONAU, country="DE"),
            ]
        )
        candidate = make_candidate(work_countries=("NL", "DE"), max_travel_km=60)
        assert {
            r.id for r in engine.rank_vacancies(candidate, index, filters=MatchFilters(sector="zorg"))
        } == {"zorg"}
        assert {
            r.id for r in engine.rank_vacancies(candidate, index, filters=MatchFilters(country="DE"))
        } == {"de"}
        assert {r.id for r in engine.rank_vacancies(candidate, index, filters=MatchFilters(max_km=5))} == {
            "near",
            "zorg",
        }
        all_results = engine.rank_vacancies(candidate, index)
        cut = sorted(r.score for r in all_results)[1]
        kept = engine.rank_vacancies(candidate, index, filters=MatchFilters(min_score=cut))
        assert all(r.score >= cut for r in kept)
        assert len(kept) == sum(r.score >= cut for r in all_results)

    def test_upsert_and_remove(self, engine: MatchEngine) -> None:
        index = engine.build_vacancy_index([make_vacancy(id="a"), make_vacancy(id="b")])
        candidate = make_candidate()
        before = {r.id: r.score for r in engine.rank_vacancies(candidate, index)}
        index.upsert([make_vacancy(id="a", certificates_required=("VOG",)), make_vacancy(id="c")])
        after = {r.id: r for r in engine.rank_vacancies(candidate, index)}
        assert set(after) == {"a", "b", "c"}
        assert after["a"].unmet
        assert after["b"].score == before["b"]
        assert index.remove(["b", "zzz"]) == 1
        assert {r.id for r in engine.rank_vacancies(candidate, index)} == {"a", "c"}
        for i in range(20):  # enough churn to trigger compaction
            index.upsert([make_vacancy(id=f"x{i}")])
            index.remove([f"x{i}"])
        assert {r.id for r in engine.rank_vacancies(candidate, index)} == {"a", "c"}
        assert len(index) == 2

    def test_records_share_equal_values(self, engine: MatchEngine) -> None:
        """Equal labels and occupation credits are one object across an index's records (they arrive as new
        strings from every database row), the occupation row class keys are the records' own tuples, and
        the per-read views still say what the candidate gave."""

        def fresh(text: str) -> str:
            return "".join(list(text))  # equal, but a new object, as a database row gives it

        labels = ("reachtruck besturen", "goederen laden")
        a = make_candidate(
            id="a", competences=[fresh(x) for x in labels], desired=[fresh("reachtruckchauffeur")]
        )
        b = make_candidate(
            id="b", competences=[fresh(x) for x in labels], desired=[fresh("reachtruckchauffeur")]
        )
        assert a.competences[0].label is not b.competences[0].label
        index = engine.build_candidate_index([a, b])
        ra, rb = index.record("a"), index.record("b")
        assert all(x is y for x, y in zip(ra.skill_given, rb.skill_given, strict=True))
        assert all(x is y for x, y in zip(ra.occupation_credits, rb.occupation_credits, strict=True))
        assert all(x is y for x, y in zip(ra.occupation_labels, rb.occupation_labels, strict=True))
        assert list(ra.skill_labels.values()) == list(labels)
        assert ra.held_skills == frozenset(ra.skill_keys) == frozenset(ra.skill_labels)
        assert ra.occupation_tokens == dict(ra.occupation_credits)
        assert list(ra.occupation_credits) == sorted(ra.occupation_credits)
        assert index.class_keys("occupation")[0] is ra.occupation_credits

        vacancies = engine.build_vacancy_index(
            [
                make_vacancy(id=i, title=fresh("reachtruckchauffeur"), languages_required={"nl": "2F"})
                for i in "xy"
            ]
        )
        vx, vy = vacancies.record("x"), vacancies.record("y")
        for name in (
            "title",
            "desired",
            "listed_extra",
            "languages",
            "certificates",
            "xyz",
            "occupation_tokens",
        ):
            assert getattr(vx, name) is getattr(vy, name), name


class TestAlgorithms:
    def test_config_round_trips_and_results_can_name_it(self) -> None:
        assert AlgorithmConfig.from_dict(DEFAULT_ALGORITHM.to_dict()) == DEFAULT_ALGORITHM
        assert get_algorithm(DEFAULT_ALGORITHM.name) == DEFAULT_ALGORITHM
        assert sum(DEFAULT_ALGORITHM.weights.values()) == 100

    def test_weights_must_add_up(self) -> None:
        with pytest.raises(ValueError, match="add up to 100"):
            AlgorithmConfig(name="x", version="1", weights={**DEFAULT_ALGORITHM.weights, "hours": 50.0})


class TestPathsAgree:
    """The live path, the batch path and the per-pair reference loop give the same scores and top-50."""

    @pytest.fixture(scope="class")
    def world(self, real_taxonomy):  # type: ignore[no-untyped-def]
        from matching.synthetic import make_world

        engine = MatchEngine(taxonomy=real_taxonomy)
        world = make_world(real_taxonomy)
        candidates = world.candidates(120, seed=11)
        vacancies = world.vacancies(1000, seed=12)
        return (
            engine,
            candidates,
            vacancies,
            engine.build_candidate_index(candidates),
            engine.build_vacancy_index(vacancies),
        )

    def test_live_equals_reference_top50(self, world) -> None:  # type: ignore[no-untyped-def]
        engine, candidates, _vacancies, cand_index, vac_index = world
        records = list(vac_index)
        for candidate in candidates[:60]:
            live = [(r.id, r.score) for r in engine.rank_vacancies(candidate, vac_index, limit=50)]
            reference = rank_vacancies_reference(cand_index.record(candidate.id), records, engine.algorithm)
            assert live == reference, candidate.id

    def test_batch_equals_live_both_directions(self, world) -> None:  # type: ignore[no-untyped-def]
        engine, candidates, vacancies, cand_index, vac_index = world
        batch = dict(engine.top_k_vacancies_for_candidates(cand_index, vac_index, k=50, workers=2))
        assert set(batch) == {c.id for c in candidates}
        for candidate in candidates:
            live = [
                (r.id, r.score)
                for r in engine.rank_vacancies(candidate, vac_index, limit=1000)
                if not r.unmet
            ]
            assert batch[candidate.id] == live[:50]
        batch_v = dict(engine.top_k_candidates_for_vacancies(vac_index, cand_index, k=50))
        for vacancy in vacancies[:150]:
            live = [
                (r.id, r.score)
                for r in engine.rank_candidates(vacancy, cand_index, limit=1000)
                if not r.unmet
            ]
            assert batch_v[vacancy.id] == live[:50]

    def test_indexes_built_from_streams_rank_the_same(self, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        """A batch worker builds its indexes from database streams, encoded in chunks (BUILD_CHUNK); the
        rankings equal those of indexes built from lists in one go, both directions."""
        import matching.engine as engine_module

        engine, candidates, vacancies, cand_index, vac_index = world
        monkeypatch.setattr(engine_module, "BUILD_CHUNK", 37)  # several chunks, the last one partial
        fresh = MatchEngine(taxonomy=engine.encoder.taxonomy)
        chunks_done: list[None] = []  # one call per encoded chunk (where a batch worker trims its heap)
        s_cands = fresh.build_candidate_index(iter(candidates), after_chunk=lambda: chunks_done.append(None))
        assert len(chunks_done) == -(-len(candidates) // 37)
        s_vacs = fresh.build_vacancy_index(v for v in vacancies)
        assert len(s_cands) == len(cand_index)
        assert len(s_vacs) == len(vac_index)
        for rank, queries, listed, streamed in (
            ("rank_vacancies", candidates[:40], vac_index, s_vacs),
            ("rank_candidates", vacancies[:40], cand_index, s_cands),
        ):
            for query in queries:
                expected = getattr(engine, rank)(query, listed, limit=50)
                got = getattr(fresh, rank)(query, streamed, limit=50)
                assert [(r.id, r.score, r.unmet) for r in got] == [(r.id, r.score, r.unmet) for r in expected]
        batch = dict(fresh.top_k_vacancies_for_candidates(s_cands, s_vacs, k=50))
        assert batch == dict(engine.top_k_vacancies_for_candidates(cand_index, vac_index, k=50))


class TestBatchTieBreak:
    """Equal scores break by id in the batch, whatever the chunking, subset or worker count."""

    def _indexes(self, engine: MatchEngine):  # type: ignore[no-untyped-def]
        # Identical vacancies (equal scores) inserted in an order unrelated to their ids, some far away so
        # that chunks see different local target sets.
        order = [7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 6, 4]
        vacancies = [make_vacancy(id=f"v{i:02d}", at=ENSCHEDE if i % 3 else GRONAU) for i in order]
        candidates = [
            make_candidate(id=f"c{i:02d}", at=PLACES[i % len(PLACES)], work_countries=("NL", "DE"))
            for i in (4, 1, 3, 0, 2, 5)
        ]
        return engine.build_candidate_index(candidates), engine.build_vacancy_index(vacancies)

    def test_ties_break_by_id_independent_of_chunking(self, engine: MatchEngine) -> None:
        cand_index, vac_index = self._indexes(engine)
        runs = [
            dict(
                engine.top_k_vacancies_for_candidates(cand_index, vac_index, k=k, chunk_size=chunk, workers=w)
            )
            for k, chunk, w in ((5, 1, 1), (5, 2, 1), (5, 256, 1), (5, 3, 2))
        ]
        assert all(run == runs[0] for run in runs)
        for top in runs[0].values():
            keys = [(-score, id_) for id_, score in top]
            assert keys == sorted(keys)
        subset = dict(
            engine.top_k_vacancies_for_candidates(cand_index, vac_index, k=5, candidate_ids=["c03", "c00"])
        )
        assert subset == {c: runs[0][c] for c in ("c03", "c00")}
        runs_v = [
            dict(engine.top_k_candidates_for_vacancies(vac_index, cand_index, k=4, chunk_size=chunk))
            for chunk in (1, 5, 256)
        ]
        assert all(run == runs_v[0] for run in runs_v)
        for top in runs_v[0].values():
            keys = [(-score, id_) for id_, score in top]
            assert keys == sorted(keys)


class TestPurity:
    FORBIDDEN = ("service", "sqlalchemy", "fastapi", "alembic", "starlette", "pydantic")

    def test_matching_imports_nothing_of_the_service(self) -> None:
        root = Path(__file__).resolve().parents[2] / "matching"
        offenders = []
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in self.FORBIDDEN]
        assert offenders == []
