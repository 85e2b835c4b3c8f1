"""The live path's shortcuts must not change a single result: the misc factors' memo per query key part,
competences through one product over every vacancy row (``PairBlock.narrowed``), the index's "settled" flag
that lets a query skip re-materialising, and ``competences.explainer`` (explain with the candidate's side
prepared once)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import matching.engine as engine_module
from matching.engine import MatchEngine
from matching.factors import competences
from matching.index import PairBlock, QueryProfile
from matching.types import MatchFilters


@pytest.fixture(scope="module")
def world(real_taxonomy):  # type: ignore[no-untyped-def]
    from matching.synthetic import make_world

    w = make_world(real_taxonomy, seed=5)
    return w.candidates(200, seed=31), w.vacancies(400, seed=32)


@pytest.fixture
def engine(real_taxonomy):  # type: ignore[no-untyped-def]
    return MatchEngine(taxonomy=real_taxonomy)


def _without_misc_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "misc_class_key", lambda record: None)


class TestMiscMemo:
    def test_memoised_misc_scores_equal_fresh_ones_both_ways(self, engine, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        vac_index = engine.build_vacancy_index(vacancies)
        cand_index = engine.build_candidate_index(candidates)
        # Twice each: the second ranking of a profile reads every misc factor from the memo.
        memo_c = [[engine.rank_vacancies(c, vac_index, limit=20) for c in candidates[:60]] for _ in range(2)]
        memo_v = [[engine.rank_candidates(v, cand_index, limit=20) for v in vacancies[:60]] for _ in range(2)]
        _without_misc_memo(monkeypatch)
        fresh_c = [engine.rank_vacancies(c, vac_index, limit=20) for c in candidates[:60]]
        fresh_v = [engine.rank_candidates(v, cand_index, limit=20) for v in vacancies[:60]]
        assert memo_c[0] == memo_c[1] == fresh_c
        assert memo_v[0] == memo_v[1] == fresh_v

    def test_the_memo_starts_over_when_the_classes_change(self, engine, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        vac_index = engine.build_vacancy_index(vacancies[:150])
        for c in candidates[:30]:
            engine.rank_vacancies(c, vac_index, limit=20)
        memo_before = engine._misc_splits[vac_index].memo
        assert memo_before
        vac_index.upsert(vacancies[150:])  # new misc classes: sub-classes appended
        vac_index.remove([v.id for v in vacancies[:120]])  # and a compaction: classes renumbered
        after = [engine.rank_vacancies(c, vac_index, limit=20) for c in candidates[:30]]
        assert engine._misc_splits[vac_index].memo is not memo_before
        _without_misc_memo(monkeypatch)
        assert after == [engine.rank_vacancies(c, vac_index, limit=20) for c in candidates[:30]]


class TestExplanationMemo:
    @pytest.mark.parametrize("size", [20_000, 7])  # 7: the memos start over all the time
    def test_explanations_shared_across_rankings_equal_fresh_ones(
        self, real_taxonomy, world, monkeypatch, size
    ) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        monkeypatch.setattr(engine_module, "_EXPLAIN_MEMO_SIZE", size)
        warm = MatchEngine(taxonomy=real_taxonomy)
        vac_index = warm.build_vacancy_index(vacancies)
        cand_index = warm.build_candidate_index(candidates)
        for c in candidates[:40]:  # fill the memos
            warm.rank_vacancies(c, vac_index, limit=30)
        for v in vacancies[:40]:
            warm.rank_candidates(v, cand_index, limit=30)
        for c in candidates[20:80]:
            fresh = MatchEngine(taxonomy=real_taxonomy)
            assert warm.rank_vacancies(c, vac_index, limit=30) == fresh.rank_vacancies(
                c, fresh.build_vacancy_index(vacancies), limit=30
            )
        fresh_engine = MatchEngine(taxonomy=real_taxonomy)
        fresh_cands = fresh_engine.build_candidate_index(candidates)
        for v in vacancies[20:50]:
            fresh = MatchEngine(taxonomy=real_taxonomy)
            expected = fresh.rank_candidates(v, fresh.build_candidate_index(candidates), limit=30)
            assert warm.rank_candidates(v, cand_index, limit=30) == expected
            assert fresh_engine.rank_candidates(v, fresh_cands, limit=30) == expected


class TestFullCompetences:
    @pytest.mark.parametrize(
        "filters", [None, MatchFilters(min_score=0.4), MatchFilters(max_km=20.0), MatchFilters(sector="zorg")]
    )
    def test_one_product_over_every_row_equals_products_over_rows(
        self, engine, world, monkeypatch, filters
    ) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        vac_index = engine.build_vacancy_index(vacancies)
        narrowed = []
        original = PairBlock.narrowed

        def counting(self, rows):  # type: ignore[no-untyped-def]
            narrowed.append(rows.size)
            return original(self, rows)

        monkeypatch.setattr(PairBlock, "narrowed", counting)
        monkeypatch.setattr(engine_module, "_FULL_COMPETENCES", 0)  # never
        rows = [engine.rank_vacancies(c, vac_index, limit=25, filters=filters) for c in candidates[:80]]
        assert not narrowed
        monkeypatch.setattr(engine_module, "_FULL_COMPETENCES", 10**9)  # whenever competences are scored
        full = [engine.rank_vacancies(c, vac_index, limit=25, filters=filters) for c in candidates[:80]]
        assert narrowed
        assert rows == full

    def test_a_narrowed_block_equals_a_block_over_its_rows(self, engine, world) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        vac_index = engine.build_vacancy_index(vacancies)
        rng = np.random.default_rng(3)
        related_credit = 0.5
        for candidate in candidates[:20]:
            record = engine.encoder.candidate(candidate)
            query = QueryProfile.candidate(record, engine.vocab, max_travel_km=100.0)
            full = PairBlock(query, 0, vac_index, None)  # type: ignore[arg-type]
            for size in (1, 7, 120):
                rows = np.sort(rng.choice(len(vac_index), size=size, replace=False)).astype(np.int64)
                narrowed = full.narrowed(rows)
                direct = PairBlock(query, 0, vac_index, rows)  # type: ignore[arg-type]
                for name in ("required", "desired"):
                    assert np.array_equal(
                        narrowed.skill_credits(name, related_credit),
                        direct.skill_credits(name, related_credit),
                    )
                assert np.array_equal(
                    narrowed.overlap("held", "listed_extra"), direct.overlap("held", "listed_extra")
                )
                assert np.array_equal(narrowed.profile_overlap(), direct.profile_overlap())

    def test_only_a_block_over_every_row_narrows(self, engine, world) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        vac_index = engine.build_vacancy_index(vacancies[:50])
        query = QueryProfile.candidate(
            engine.encoder.candidate(candidates[0]), engine.vocab, max_travel_km=100.0
        )
        some = PairBlock(query, 0, vac_index, np.arange(5, dtype=np.int64))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="narrowed"):
            some.narrowed(np.arange(2, dtype=np.int64))


class TestSettledIndex:
    def test_queries_see_every_change_after_the_index_settled(self, engine, world) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        vac_index = engine.build_vacancy_index(vacancies[:100])
        candidate = candidates[0]
        engine.rank_vacancies(candidate, vac_index, limit=500)
        assert vac_index._settled
        vac_index.upsert(vacancies[100:200])
        assert not vac_index._settled
        ids = {r.id for r in engine.rank_vacancies(candidate, vac_index, limit=500)}
        assert ids <= {v.id for v in vacancies[:200]}
        assert ids & {v.id for v in vacancies[100:200]}
        gone = [v.id for v in vacancies[100:200]]
        vac_index.remove(gone)
        assert not vac_index._settled
        ids = {r.id for r in engine.rank_vacancies(candidate, vac_index, limit=500)}
        assert not ids & set(gone)
        assert vac_index._settled


def _reference_explain(candidate, vacancy, thresholds):  # type: ignore[no-untyped-def]
    """competences.explain as it was before the explainer (the set arithmetic spelled out per pair)."""
    required = vacancy.required
    desired = vacancy.desired
    if not required and not desired:
        return "Vacature noemt geen competenties; neutraal beoordeeld.", ()
    held = candidate.held_skills
    related = candidate.related_only
    if vacancy.inferred:
        have = required & held
        n_related = len((required & related) - held)
        cap = int(min(len(required), thresholds["inferred_cap"]))
        text = (
            f"Geen competentielijst; afgeleid uit beroep en tekst: kandidaat heeft {len(have)} "
            f"van de {len(required)} kerncompetenties (gemeten tegen {cap})"
        )
        if n_related:
            text += f", {n_related} verwant"
        if have:
            text += f" ({competences._names(have, vacancy)})"
        if vacancy.profile is not None and held:
            fit = competences._fit_count(held, vacancy)
            text += f"; {fit} van {len(held)} eigen competenties passen bij het beroep"
        return text + ".", ()
    parts = []
    if required:
        rel = (required & related) - held
        missing = required - held - related
        text = f"{len(required & held)} van {len(required)} vereiste competenties"
        if rel:
            text += f" (+{len(rel)} verwant: {competences._names(rel, vacancy)})"
        if missing:
            text += f"; mist: {competences._names(missing, vacancy)}"
        parts.append(text)
    if desired:
        n_related_d = len((desired & related) - held)
        text = f"{len(desired & held)} van {len(desired)} gewenste"
        if n_related_d:
            text += f" (+{n_related_d} verwant)"
        parts.append(text)
    text = "; ".join(parts)
    if vacancy.profile is not None and held:
        fit = competences._fit_count(held, vacancy)
        text += f"; {fit} van {len(held)} eigen competenties passen bij het beroep"
    return text + ".", ()


class TestExplainer:
    def test_the_explainer_gives_the_per_pair_text(self, engine, world) -> None:  # type: ignore[no-untyped-def]
        candidates, vacancies = world
        thresholds = dict(engine.algorithm.thresholds)
        records = [engine.encoder.vacancy(v) for v in vacancies[:150]]
        records.append(dataclasses.replace(records[0], required=frozenset(), desired=frozenset()))
        records.append(dataclasses.replace(records[1], inferred=True))
        for candidate in candidates[:30]:
            c = engine.encoder.candidate(candidate)
            # The explainer relies on this: a record's related-only concepts are never among its held ones.
            assert c.related_only.isdisjoint(c.held_skills)
            one = competences.explainer(c, thresholds)
            for v in records:
                expected = _reference_explain(c, v, thresholds)
                assert one(v) == expected
                assert (
                    competences.explain(c, v, score=0.0, distance_km=0.0, thresholds=thresholds) == expected
                )
