"""Engine figures: live top-50 latency both ways, and a per-pair Python loop against the batch engine.

Profiles are read from a seeded database with the service's mapping (``service.matches.mapping``) and indexed
with :class:`~matching.engine.MatchEngine`, exactly as the service and the batch do. Live latency is measured
on ONE core (the process is pinned while it runs), with explanations for the 50 results, as a coach's request
would get them. The loop baseline is :mod:`matching.reference` — the straightforward per-pair scorer with the
same scores — timed on a sample of candidates against every vacancy and extrapolated.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from matching.engine import MatchEngine
from matching.index import CandidateIndex, VacancyIndex
from matching.reference import rank_vacancies_reference
from matching.types import CandidateFeatures, VacancyFeatures

__all__ = ["Indexed", "LiveLatency", "LoopVsBatch", "build", "live_latency", "loop_vs_batch", "pinned"]


@dataclass
class Indexed:
    """A data set loaded into the engine: the features and both indexes, with load and build times."""

    engine: MatchEngine
    candidates: list[CandidateFeatures]
    vacancies: list[VacancyFeatures]
    candidate_index: CandidateIndex
    vacancy_index: VacancyIndex
    load_seconds: float
    build_seconds: float
    process_bytes: int | None = None  # RSS growth of this process from building both indexes (see build)


def _settled_rss() -> int | None:
    """This process's RSS after a garbage collection and returning freed heap memory to the system."""
    import gc

    import psutil

    from service.batch.worker import _MALLOC

    gc.collect()
    _MALLOC.trim()
    try:
        return int(psutil.Process().memory_info().rss)
    except psutil.Error:
        return None


def build(database_url: str) -> Indexed:
    """Build both engine indexes from the database and load the features the queries are drawn from.

    The indexes are built from the profiles as they stream from the database (``mapping.iter_*_features``,
    as the batch worker builds them), so that nothing but the indexes keeps what the rows held.
    ``process_bytes`` is what that build added to the process (settled RSS after minus before, the taxonomy
    and the database code already loaded): the indexes' arrays, the encoded Python records the live path
    explains from (with every label and id string they keep), the row classes and the encoder's memos; more
    than ``nbytes()`` of the indexes, which counts the arrays only. ``build_seconds`` includes reading the
    rows; ``load_seconds`` is the separate load of the features as lists (the live queries' subjects)."""
    from service.matches.mapping import (
        iter_candidate_features,
        iter_vacancy_features,
        load_candidate_features,
        load_vacancy_features,
    )
    from service.persistence.db import make_engine, make_sessionmaker

    db = make_engine(database_url)
    try:
        sessions = make_sessionmaker(db)
        engine = MatchEngine()  # loads the taxonomy: before the memory baseline
        with sessions() as session:  # the first read loads the driver and the ORM: before the baseline too
            next(iter(iter_vacancy_features(session)), None)
        before = _settled_rss()
        built_at = time.perf_counter()
        with sessions() as session:
            vacancy_index = engine.build_vacancy_index(iter_vacancy_features(session))
            candidate_index = engine.build_candidate_index(iter_candidate_features(session))
        build_seconds = time.perf_counter() - built_at
        after = _settled_rss()
        started = time.perf_counter()
        with sessions() as session:
            candidates = load_candidate_features(session)
            vacancies = load_vacancy_features(session)
        load_seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return Indexed(
        engine,
        candidates,
        vacancies,
        candidate_index,
        vacancy_index,
        load_seconds,
        build_seconds,
        None if before is None or after is None else max(after - before, 0),
    )


@contextmanager
def pinned(core: int | None = None) -> Iterator[int | None]:
    """Pin this process to one core for the block (live latency is a one-core figure); restores afterwards."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    chosen = core if core is not None else min(before)
    os.sched_setaffinity(0, {chosen})
    try:
        yield chosen
    finally:
        os.sched_setaffinity(0, before)


def _subjects(items: Sequence[object], n: int, *, seed: int) -> list[object]:
    """``n`` items drawn deterministically; with fewer items than ``n`` every item is used repeatedly."""
    rng = random.Random(seed)
    if len(items) >= n:
        return rng.sample(list(items), n)
    return [items[rng.randrange(len(items))] for _ in range(n)]


def percentiles_ms(samples_ns: Sequence[int]) -> tuple[float, float, float]:
    """(p50, p95, p99) in milliseconds."""
    p50, p95, p99 = np.percentile(np.asarray(samples_ns, dtype=np.float64), [50, 95, 99]) / 1e6
    return float(p50), float(p95), float(p99)


@dataclass(frozen=True, slots=True)
class LiveLatency:
    """Live top-50 latency per direction (ms) and the number of timed queries."""

    c2v: tuple[float, float, float]
    v2c: tuple[float, float, float]
    queries: int
    core: int | None


def live_latency(indexed: Indexed, *, queries: int, seed: int = 7, warmup: int = 20) -> LiveLatency:
    """Time ``queries`` live top-50 rankings per direction (with explanations), pinned to one core."""
    engine = indexed.engine
    cand_subjects = _subjects(indexed.candidates, queries, seed=seed)
    vac_subjects = _subjects(indexed.vacancies, queries, seed=seed + 1)
    with pinned() as core:
        for candidate in cand_subjects[:warmup]:
            engine.rank_vacancies(candidate, indexed.vacancy_index, limit=50)  # type: ignore[arg-type]
        c2v: list[int] = []
        for candidate in cand_subjects:
            started = time.perf_counter_ns()
            engine.rank_vacancies(candidate, indexed.vacancy_index, limit=50)  # type: ignore[arg-type]
            c2v.append(time.perf_counter_ns() - started)
        for vacancy in vac_subjects[:warmup]:
            engine.rank_candidates(vacancy, indexed.candidate_index, limit=50)  # type: ignore[arg-type]
        v2c: list[int] = []
        for vacancy in vac_subjects:
            started = time.perf_counter_ns()
            engine.rank_candidates(vacancy, indexed.candidate_index, limit=50)  # type: ignore[arg-type]
            v2c.append(time.perf_counter_ns() - started)
    return LiveLatency(percentiles_ms(c2v), percentiles_ms(v2c), queries, core)


@dataclass(frozen=True, slots=True)
class LoopVsBatch:
    """Per-pair loop rate on a sample, the batch engine's effective rate over everything, and a check."""

    loop_pairs: int
    loop_seconds: float
    loop_candidates: int
    batch_pairs: int
    batch_seconds: float
    batch_workers: int
    top50_identical: bool
    top50_checked: int

    @property
    def loop_pairs_per_second(self) -> float:
        return self.loop_pairs / self.loop_seconds

    @property
    def batch_pairs_per_second(self) -> float:
        return self.batch_pairs / self.batch_seconds


def loop_vs_batch(
    indexed: Indexed,
    *,
    budget_seconds: float,
    seed: int = 11,
    workers: int | None = None,
    max_candidates: int = 200,
) -> LoopVsBatch:
    """The reference loop on sampled candidates × all vacancies (until ``budget_seconds``), then the batch
    engine top-50 both ways over all profiles; the loop's top-50 is compared with the live engine's."""
    engine = indexed.engine
    algorithm = engine.algorithm
    vacancies = list(indexed.vacancy_index)
    sample = _subjects(indexed.candidates, min(max_candidates, len(indexed.candidates)), seed=seed)
    encoded = [engine.encoder.candidate(c) for c in sample]  # type: ignore[arg-type]
    pairs = 0
    done = 0
    identical = True
    spent = 0.0
    for features, candidate in zip(sample, encoded, strict=True):
        started = time.perf_counter()
        reference = rank_vacancies_reference(candidate, vacancies, algorithm, limit=50)
        spent += time.perf_counter() - started
        pairs += len(vacancies)
        done += 1
        live = engine.rank_vacancies(features, indexed.vacancy_index, limit=50)  # type: ignore[arg-type]
        identical &= [(r.id, r.score) for r in live] == reference
        if spent >= budget_seconds:
            break
    workers = workers or os.cpu_count() or 1
    n_c = len(indexed.candidate_index)
    n_v = len(indexed.vacancy_index)
    started = time.perf_counter()
    for _ in engine.top_k_vacancies_for_candidates(
        indexed.candidate_index, indexed.vacancy_index, k=50, workers=workers
    ):
        pass
    for _ in engine.top_k_candidates_for_vacancies(
        indexed.vacancy_index, indexed.candidate_index, k=50, workers=workers
    ):
        pass
    batch_seconds = time.perf_counter() - started
    return LoopVsBatch(pairs, spent, done, 2 * n_c * n_v, batch_seconds, workers, identical, done)
