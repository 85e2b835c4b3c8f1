"""The live path scores each "misc" factor once per distinct value of its part of the class key
(``engine._MISC_KEY_PARTS``). That must give exactly what scoring every misc class gives — in both directions,
after rows are added (new classes appended to the split) and after the index compacts (classes renumbered).
If a misc factor starts reading a field its key part lacks, these comparisons fail."""

from __future__ import annotations

import pytest

from matching.engine import MatchEngine


@pytest.fixture
def setup(real_taxonomy):  # type: ignore[no-untyped-def]
    from matching.synthetic import make_world

    engine = MatchEngine(taxonomy=real_taxonomy)
    world = make_world(real_taxonomy, seed=3)
    candidates = world.candidates(300, seed=21)
    vacancies = world.vacancies(500, seed=22)
    return engine, world, candidates, vacancies


def _both_ways(engine: MatchEngine, run, queries) -> None:  # type: ignore[no-untyped-def]
    """Every query ranked with the split and with every misc class scored: identical results."""
    split = engine._misc_split
    for query in queries:
        with_split = run(query)
        engine._misc_split = lambda index, reps: None  # type: ignore[method-assign]
        try:
            without = run(query)
        finally:
            engine._misc_split = split  # type: ignore[method-assign]
        assert with_split == without, getattr(query, "id", query)


class TestMiscSplit:
    def test_split_equals_scoring_every_class_through_appends_and_compaction(self, setup) -> None:  # type: ignore[no-untyped-def]
        engine, world, candidates, vacancies = setup
        vac_index = engine.build_vacancy_index(vacancies[:300])
        cand_index = engine.build_candidate_index(candidates[:200])

        def c2v(candidate):  # type: ignore[no-untyped-def]
            return engine.rank_vacancies(candidate, vac_index, limit=50)

        def v2c(vacancy):  # type: ignore[no-untyped-def]
            return engine.rank_candidates(vacancy, cand_index, limit=50)

        _both_ways(engine, c2v, candidates[:25])
        _both_ways(engine, v2c, vacancies[:25])
        splits_before = {index: engine._misc_splits[index].reps for index in (vac_index, cand_index)}

        # New rows bring new classes: the split grows incrementally.
        vac_index.upsert(vacancies[300:])
        cand_index.upsert(candidates[200:])
        _both_ways(engine, c2v, candidates[200:225])
        _both_ways(engine, v2c, vacancies[300:325])
        for index in (vac_index, cand_index):
            assert engine._misc_splits[index].reps is not splits_before[index]

        # Removing most rows makes the next materialisation compact and renumber the classes.
        vac_index.remove([v.id for v in vacancies[::3]] + [v.id for v in vacancies[1::3]])
        cand_index.remove([c.id for c in candidates[::2]])
        _both_ways(engine, c2v, candidates[:25])
        _both_ways(engine, v2c, vacancies[2::3][:25])

    def test_a_concurrent_class_change_falls_back_to_scoring_every_class(self, setup) -> None:  # type: ignore[no-untyped-def]
        engine, _world, candidates, vacancies = setup
        vac_index = engine.build_vacancy_index(vacancies[:100])
        _ids, reps = vac_index.classes("misc")
        stale = reps.copy()  # not the array the index hands out: as if the classes changed meanwhile
        assert engine._misc_split(vac_index, stale) is None
        assert engine._misc_split(vac_index, reps) is not None
