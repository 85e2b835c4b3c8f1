"""Batch ranking with bound-based pruning (``_GridJob._block``) gives exactly the full-grid results
(``_GridJob._block_grid``): same top-k targets, same scores, same order, in both directions."""

from __future__ import annotations

import numpy as np
import pytest

from matching import batch as mb
from matching.engine import MatchEngine
from tests.matching.conftest import ALMELO, ENSCHEDE, GRONAU, make_candidate, make_vacancy

PLACES = (ALMELO, ENSCHEDE, GRONAU)


def _both(ctx: mb.BatchContext, candidates_query: bool, rows: np.ndarray, k: int) -> tuple:
    """(pruned, full grid) results of the same rows."""
    assert ctx.exact_pairs()
    pruned = mb._GridJob(ctx, candidates_query, k).run(rows)
    full = mb._GridJob(ctx, candidates_query, k)
    full_out = _run_grid(full, rows)
    return pruned, full_out


def _run_grid(job: mb._GridJob, rows: np.ndarray) -> tuple:
    job._block = job._block_grid  # type: ignore[method-assign]
    return job.run(rows)


def _assert_same(a: tuple, b: tuple) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    from matching.synthetic import make_world
    from matching.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    engine = MatchEngine(taxonomy=taxonomy)
    synthetic = make_world(taxonomy)
    cands = engine.build_candidate_index(synthetic.candidates(300, seed=21))
    vacs = engine.build_vacancy_index(synthetic.vacancies(900, seed=22))
    return mb.BatchContext.build(engine, cands, vacs)


@pytest.mark.parametrize("candidates_query", [True, False])
@pytest.mark.parametrize("k", [1, 7, 50, 5000])
def test_pruned_equals_full_grid(world, candidates_query: bool, k: int) -> None:  # type: ignore[no-untyped-def]
    ctx = world
    rows = ctx.query_rows(candidates_query, None)
    pruned, full = _both(ctx, candidates_query, rows, k)
    _assert_same(pruned, full)
    assert int(pruned[0].sum()) > 0


@pytest.mark.parametrize("cells", [1, 2_000, 10**7])
def test_block_size_does_not_change_results(world, monkeypatch, cells: int) -> None:  # type: ignore[no-untyped-def]
    ctx = world
    reference = {cq: _run_grid(mb._GridJob(ctx, cq, 20), ctx.query_rows(cq, None)) for cq in (True, False)}
    monkeypatch.setattr(mb, "PRUNED_CELLS", cells)
    for cq in (True, False):
        _assert_same(mb._GridJob(ctx, cq, 20).run(ctx.query_rows(cq, None)), reference[cq])


def test_ties_and_unmet_requirements_match_full_grid(engine: MatchEngine) -> None:
    # Identical vacancies (equal scores, ties by id), some far away, some with a certificate nobody has.
    order = [7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 6, 4]
    vacancies = [
        make_vacancy(
            id=f"v{i:02d}", at=ENSCHEDE if i % 3 else GRONAU, certificates_required=("VCA",) if i == 5 else ()
        )
        for i in order
    ]
    candidates = [
        make_candidate(id=f"c{i:02d}", at=PLACES[i % len(PLACES)], work_countries=("NL", "DE"))
        for i in (4, 1, 3, 0, 2, 5)
    ]
    ctx = mb.BatchContext.build(
        engine, engine.build_candidate_index(candidates), engine.build_vacancy_index(vacancies)
    )
    for cq in (True, False):
        rows = ctx.query_rows(cq, None)
        for k in (1, 3, 5, 50):
            pruned, full = _both(ctx, cq, rows, k)
            _assert_same(pruned, full)


def test_scratch_buffer_is_left_zeroed(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world
    job = mb._GridJob(ctx, False, 10)
    rows = ctx.query_rows(False, None)
    first = job.run(rows)
    buffer = job._scratch.get("products")
    assert buffer is not None
    assert not np.any(buffer)
    assert "dirty" not in job._scratch
    _assert_same(job.run(rows[::-1]), mb._GridJob(ctx, False, 10).run(rows[::-1]))
    _assert_same(job.run(rows), first)


def test_kth_lower_bound_is_a_lower_bound() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        r, m = int(rng.integers(1, 6)), int(rng.integers(1, 300))
        base = rng.integers(-5, 7000, size=(r, m)).astype(np.int32)
        base[rng.random((r, m)) < 0.4] = mb._BAD + int(rng.integers(0, 2**16))
        k = int(rng.integers(1, 60))
        bound = mb._kth_lower_bound(base, k)
        for row in range(r):
            ok = np.sort(base[row][base[row] > mb._OK_MIN])[::-1]
            if np.count_nonzero(ok >= 0) >= k:
                assert mb._OK_MIN < bound[row] <= ok[k - 1]
            elif ok.size >= k:
                assert bound[row] <= ok[k - 1]
            else:
                assert bound[row] == mb._OK_MIN + 1


def test_non_dyadic_values_fall_back_to_the_full_grid(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ctx = world
    rows = ctx.query_rows(True, None)[:40]
    expected = _run_grid(mb._GridJob(ctx, True, 10), rows)
    monkeypatch.setattr(mb.BatchContext, "exact_pairs", lambda self: False)
    calls = []
    original = mb._GridJob._block_grid

    def spy(self, rows, direction):  # type: ignore[no-untyped-def]
        calls.append(rows.size)
        return original(self, rows, direction)

    monkeypatch.setattr(mb._GridJob, "_block_grid", spy)
    _assert_same(mb._GridJob(ctx, True, 10).run(rows), expected)
    assert calls


@pytest.mark.parametrize("candidates_query", [True, False])
def test_slot_sums_equal_expanded_sums(world, monkeypatch, candidates_query: bool) -> None:  # type: ignore[no-untyped-def]
    """Both ways of summing a pair's concepts (fixed slots per vacancy; expansion of the concept lists)."""
    ctx = world
    rows = ctx.query_rows(candidates_query, None)
    results = []
    for max_slots in (0, 10_000):
        monkeypatch.setattr(mb, "_MAX_SLOTS", max_slots)
        ctx._dense.pop("slots", None)
        assert (ctx.vacancy_slots() is not None) == (max_slots > 0)
        results.append(mb._GridJob(ctx, candidates_query, 25).run(rows))
    ctx._dense.pop("slots", None)
    _assert_same(results[0], results[1])
    _assert_same(_run_grid(mb._GridJob(ctx, candidates_query, 25), rows), results[1])


@pytest.mark.parametrize("candidates_query", [True, False])
def test_competence_bound_is_an_upper_bound(world, candidates_query: bool) -> None:  # type: ignore[no-untyped-def]
    """Every pair's competence points are at most the count-based bound that prunes cells before the concept
    sums; the bound is below the factor's maximum for most pairs (else it would prune nothing), and equals it
    for vacancies without an occupation profile."""
    ctx = world
    bound = ctx.competence_bound()
    assert bound is not None
    d = ctx.direction(candidates_query)
    rows = ctx.query_rows(candidates_query, None)[:60]
    targets = d.t_rows
    ri, ci = (a.ravel() for a in np.indices((rows.size, targets.size)))
    c_rows, v_rows = (rows[ri], targets[ci]) if candidates_query else (targets[ci], rows[ri])
    grid = bound.cells(c_rows, v_rows).reshape(rows.size, targets.size)
    pairs = mb._PairSource(ctx, candidates_query, rows, targets, {})
    points = pairs.competence_points(ri, ci).reshape(grid.shape)
    pairs.close()
    assert (points <= grid).all()
    comp_max = ctx.engine._competences_max
    assert (grid < comp_max).mean() > 0.5
    no_profile = ctx.vacs.array("profile") < 0
    if candidates_query:
        assert (grid[:, no_profile[targets]] == comp_max).all()
    else:
        assert (grid[no_profile[rows], :] == comp_max).all()


@pytest.mark.parametrize("candidates_query", [True, False])
def test_pruning_without_the_competence_bound(world, monkeypatch, candidates_query: bool) -> None:  # type: ignore[no-untyped-def]
    """Where the bound does not apply (held or listed-extra values other than 0 and 1), cells are pruned with
    the factor's maximum instead, with the same results."""
    ctx = world
    rows = ctx.query_rows(candidates_query, None)
    expected = _run_grid(mb._GridJob(ctx, candidates_query, 20), rows)
    monkeypatch.setattr(mb.BatchContext, "competence_bound", lambda self: None)
    _assert_same(mb._GridJob(ctx, candidates_query, 20).run(rows), expected)


def test_counts_without_the_profile_table(monkeypatch) -> None:
    """Beyond PROFILE_TABLE_MAX_BYTES the batch keeps no profile × candidate table (and so no competence
    bound) and counts per block instead: the same results in both directions, pruned and full grid."""
    from matching.synthetic import make_world
    from matching.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    engine = MatchEngine(taxonomy=taxonomy)
    synthetic = make_world(taxonomy)
    cands = engine.build_candidate_index(synthetic.candidates(300, seed=21))
    vacs = engine.build_vacancy_index(synthetic.vacancies(900, seed=22))
    with_table = mb.BatchContext.build(engine, cands, vacs)
    assert with_table.profile_by_candidate() is not None
    monkeypatch.setattr(mb, "PROFILE_TABLE_MAX_BYTES", 0)
    without = mb.BatchContext.build(engine, cands, vacs)
    assert without.profile_by_candidate() is None
    assert without.competence_bound() is None
    for candidates_query in (True, False):
        rows = with_table.query_rows(candidates_query, None)
        expected = mb._GridJob(with_table, candidates_query, 30).run(rows)
        _assert_same(mb._GridJob(without, candidates_query, 30).run(rows), expected)
        _assert_same(_run_grid(mb._GridJob(without, candidates_query, 30), rows), expected)
    profiles = vacs.array("profile")[:50]
    c_rows = np.arange(min(len(cands), 120), dtype=np.int64)
    np.testing.assert_array_equal(
        without.profile_counts(profiles, c_rows, grid=True),
        with_table.profile_counts(profiles, c_rows, grid=True),
    )
    pairs_p, pairs_c = np.repeat(profiles, 3), np.resize(c_rows, profiles.size * 3)
    np.testing.assert_array_equal(
        without.profile_counts(pairs_p, pairs_c, grid=False),
        with_table.profile_counts(pairs_p, pairs_c, grid=False),
    )
