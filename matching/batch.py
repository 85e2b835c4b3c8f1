"""Batch ranking: the top-K per profile over whole indexes, in both directions (the nightly batch's engine).

Only pairs that pass the hard filters count (eligible, within reach in an allowed country, every hard requirement
met). Filtering happens at class level (:class:`_BatchPlan`): candidates and vacancies fall into a few
feasibility classes, and per query class only the target classes that are compatible and within reach are
scored. Every factor except competences is looked up per pair of classes (:class:`_ClassTables`), scored with
the factor's own code, so batch scores are identical to the live path's (``MatchEngine.rank_vacancies``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.encoding import EncodedCandidate, EncodedVacancy, dyadic
from matching.engine import _MAX_UNMET, MatchEngine
from matching.factors import FACTORS
from matching.index import CandidateIndex, PairBlock, VacancyIndex, chord_to_km

__all__ = ["batch_top_k"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

def batch_top_k(
    engine: MatchEngine,
    *,
    query: CandidateIndex | VacancyIndex,
    target: CandidateIndex | VacancyIndex,
    k: int,
    ids: Sequence[str] | None,
    workers: int,
    chunk: int,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    query.materialise()
    target.materialise()
    q_rows = (
        np.asarray([query.row(i) for i in ids], dtype=np.int64)
        if ids is not None
        else np.flatnonzero(query.alive)
    )
    t_rows = np.flatnonzero(target.alive)
    if q_rows.size == 0:
        return
    if t_rows.size == 0:
        for row in q_rows.tolist():
            yield str(query.row_ids[row]), []
        return
    candidates_query = isinstance(query, CandidateIndex)
    cands: CandidateIndex = query if candidates_query else target  # type: ignore[assignment]
    vacs: VacancyIndex = target if candidates_query else query  # type: ignore[assignment]
    plan = _BatchPlan.build(cands, vacs)
    # Spatial order keeps the output order of earlier versions (and chunks compact).
    q_xyz = query.array("xyz")
    order = np.lexsort((q_rows, np.round(q_xyz[q_rows, 0] * 200), np.round(q_xyz[q_rows, 2] * 200)))
    q_rows = q_rows[order]
    # Ties break by id: the rank of each target's id among all live targets (global, so any chunking
    # or subset of queries orders equal scores the same way).
    id_rank = np.zeros(len(target.row_ids), dtype=np.int64)
    id_rank[t_rows[np.argsort(target.row_ids[t_rows].astype(str), kind="stable")]] = np.arange(
        t_rows.size
    )
    # Regional blocking and hard filters at class level: targets grouped by feasibility class, and per
    # query class the target classes that are compatible and within reach.
    t_fc = (plan.v_fc if candidates_query else plan.c_fc)[t_rows]
    t_order = np.argsort(t_fc, kind="stable")
    t_sorted = t_rows[t_order]
    n_t_fc = plan.feasible.shape[1 if candidates_query else 0]
    t_starts = np.searchsorted(t_fc[t_order], np.arange(n_t_fc + 1))
    transposed: dict[str, sp.csr_matrix] = {}
    if not candidates_query:
        # Few vacancies against all candidates: products go through the candidates' concept columns.
        related_credit = dyadic(engine.algorithm.thresholds["related_credit"])
        held = cands.matrix("held")
        related = cands.matrix("related")
        transposed["held"] = held.T.tocsr()
        transposed["skills"] = (held + related * np.float32(related_credit)).T.tocsr()
    job = _BatchJob(
        transposed=transposed,
        tables=_ClassTables.build(engine, cands, vacs),
        engine=engine,
        query=query,
        target=target,
        plan=plan,
        candidates_query=candidates_query,
        t_sorted=t_sorted,
        t_starts=t_starts,
        id_rank=id_rank,
        k=k,
    )
    chunks = [q_rows[i : i + chunk] for i in range(0, q_rows.size, chunk)]
    query_ids = query.row_ids
    target_ids = target.row_ids

    def emit(rows: IntArray, out: tuple[IntArray, IntArray, IntArray]) -> Iterator[tuple[str, list]]:
        counts, tops, scores = out
        tops_ids = target_ids[tops].tolist()
        values = (scores / 100).tolist()
        at = 0
        for row, n in zip(rows.tolist(), counts.tolist(), strict=True):
            yield str(query_ids[row]), list(zip(tops_ids[at : at + n], values[at : at + n], strict=True))
            at += n

    if workers <= 1 or len(chunks) <= 1:
        for rows in chunks:
            yield from emit(rows, job.run(rows))
        return
    yield from _parallel(job, chunks, workers, emit)


def _locations(xyz: FloatArray) -> tuple[IntArray, FloatArray]:
    """Distinct points (postcode centres repeat a lot) and each row's point number."""
    unique, inverse = np.unique(xyz, axis=0, return_inverse=True)
    # float64 arithmetic on the stored float32 points, exactly as PairBlock.distance_km does.
    return inverse.reshape(-1).astype(np.int64), unique.astype(np.float64)


@dataclass
class _BatchPlan:
    """Hard filters at class level.

    Requirement signatures (languages, licences, certificates, countries, garantiebaan) are compatible or not
    as a whole; travel classes (location, reach) are within reach or not. A feasibility class is a pair
    (signature, travel class); ``feasible[c_fc, v_fc]`` says whether candidates of one class meet every hard
    requirement of vacancies of the other — exactly the pairs without unmet hard requirements.
    """

    cands: CandidateIndex
    vacs: VacancyIndex
    c_fc: IntArray
    v_fc: IntArray
    feasible: npt.NDArray[np.bool_]

    @classmethod
    def build(cls, cands: CandidateIndex, vacs: VacancyIndex) -> _BatchPlan:
        c_keys: dict[tuple[object, ...], int] = {}
        c_reps: list[EncodedCandidate] = []
        c_sig = np.zeros(len(cands.row_ids), dtype=np.int64)
        for row in np.flatnonzero(cands.alive).tolist():
            r = cands.record_at(row)
            key = (
                tuple(sorted(r.languages.items())),
                r.licences,
                r.certificates,
                r.work_countries,
                r.target_group_register,
            )
            if key not in c_keys:
                c_keys[key] = len(c_reps)
                c_reps.append(r)
            c_sig[row] = c_keys[key]
        v_keys: dict[tuple[object, ...], int] = {}
        v_reps: list[EncodedVacancy] = []
        v_sig = np.zeros(len(vacs.row_ids), dtype=np.int64)
        for row in np.flatnonzero(vacs.alive).tolist():
            v = vacs.record_at(row)
            key = (tuple(sorted(v.languages.items())), v.licences, v.certificates, v.country, v.garantiebaan)
            if key not in v_keys:
                v_keys[key] = len(v_reps)
                v_reps.append(v)
            v_sig[row] = v_keys[key]
        compatible = np.zeros((max(len(c_reps), 1), max(len(v_reps), 1)), dtype=bool)
        for i, c in enumerate(c_reps):
            for j, v in enumerate(v_reps):
                compatible[i, j] = (
                    (c.target_group_register or not v.garantiebaan)
                    and v.country in c.work_countries
                    and (v.licences & ~c.licences) == 0
                    and v.certificates <= c.certificates
                    and all(c.languages.get(lang, 0) >= level for lang, level in v.languages.items())
                )
        c_travel, c_travel_reps = cands.classes("travel")
        v_travel, v_travel_reps = vacs.classes("travel")
        # Distances between class locations: the same float64 arithmetic on the stored float32 points as
        # PairBlock.distance_km, so "within reach" agrees with the travel factor exactly.
        c3 = cands.array("xyz")[c_travel_reps].astype(np.float64)
        v3 = vacs.array("xyz")[v_travel_reps].astype(np.float64)
        km = chord_to_km(
            (c3[:, None, 0] - v3[None, :, 0]) ** 2
            + (c3[:, None, 1] - v3[None, :, 1]) ** 2
            + (c3[:, None, 2] - v3[None, :, 2]) ** 2
        )
        within = km <= cands.array("limit_km")[c_travel_reps][:, None]
        c_pairs, c_fc = np.unique(c_sig * len(c_travel_reps) + c_travel, return_inverse=True)
        v_pairs, v_fc = np.unique(v_sig * len(v_travel_reps) + v_travel, return_inverse=True)
        feasible = (
            compatible[(c_pairs // len(c_travel_reps))[:, None], (v_pairs // len(v_travel_reps))[None, :]]
            & within[(c_pairs % len(c_travel_reps))[:, None], (v_pairs % len(v_travel_reps))[None, :]]
        )
        return cls(
            cands, vacs, c_fc.reshape(-1).astype(np.int64), v_fc.reshape(-1).astype(np.int64), feasible
        )


@dataclass
class _BatchJob:
    """Everything a batch worker needs; ``run`` scores one chunk of query rows."""

    tables: _ClassTables
    engine: MatchEngine
    query: CandidateIndex | VacancyIndex
    target: CandidateIndex | VacancyIndex
    plan: _BatchPlan
    candidates_query: bool
    t_sorted: IntArray
    t_starts: IntArray
    id_rank: IntArray
    k: int
    transposed: dict[str, sp.csr_matrix]

    def run(self, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Top-k per query row: (count per row, target rows, scores in hundredths), rows in order."""
        plan = self.plan
        q_fc = (plan.c_fc if self.candidates_query else plan.v_fc)[rows]
        table = plan.feasible if self.candidates_query else plan.feasible.T
        # Feasible pairs without any grid: per query class, the target rows of its feasible target classes.
        qi_parts: list[IntArray] = []
        t_parts: list[IntArray] = []
        starts, sorted_targets = self.t_starts, self.t_sorted
        unique_fc, inverse = np.unique(q_fc, return_inverse=True)
        inverse = inverse.reshape(-1)
        for u, fc in enumerate(unique_fc.tolist()):
            classes = np.flatnonzero(table[fc])
            if classes.size == 0:
                continue
            lo, hi = starts[classes], starts[classes + 1]
            lengths = hi - lo
            total = int(lengths.sum())
            if total == 0:
                continue
            ends = np.cumsum(lengths)
            targets = sorted_targets[np.repeat(lo - (ends - lengths), lengths) + np.arange(total)]
            members = np.flatnonzero(inverse == u)
            qi_parts.append(np.repeat(members, total))
            t_parts.append(np.tile(targets, members.size))
        if not qi_parts:
            return (
                np.zeros(rows.size, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64),
            )
        qi = np.concatenate(qi_parts)
        t_all = np.concatenate(t_parts)
        # All target rows as the "unique" side: its matrices are used as they are, without a row gather.
        every = np.arange(len(self.target.row_ids), dtype=np.int64)
        if self.candidates_query:
            block = PairBlock.pairs(plan.cands, rows, qi, plan.vacs, every, t_all)
        else:
            block = PairBlock.pairs(plan.cands, every, t_all, plan.vacs, rows, qi)
            block.transposed = self.transposed
        score, unmet = self.tables.score(block, np.asarray(block.c_rows), np.asarray(block.v_rows))
        ok = unmet == 0  # by construction; kept as a guard
        qi, t_all, score = qi[ok], t_all[ok], score[ok]
        # Best first per query: score descending, then id (the global id rank, never a local one).
        n = np.int64(self.id_rank.size)
        key = (qi * np.int64(10001) + (np.int64(10000) - score)) * n + self.id_rank[t_all]
        order = np.argsort(key, kind="stable")
        qi, t_all, score = qi[order], t_all[order], score[order]
        starts_q = np.searchsorted(qi, np.arange(rows.size))
        take = (np.arange(qi.size) - starts_q[qi]) < self.k
        counts = np.bincount(qi[take], minlength=rows.size)
        return counts, t_all[take], score[take]


def _subclasses(
    index: CandidateIndex | VacancyIndex, key: Callable[[Any], Hashable]
) -> tuple[npt.NDArray[np.int64], IntArray]:
    """Class number per row by ``key`` of its record (removed rows: class 0), a representative per class."""
    ids = np.zeros(len(index.row_ids), dtype=np.int64)
    seen: dict[Hashable, int] = {}
    reps: list[int] = []
    for row, record in enumerate(index.records_by_row()):
        if record is None:
            continue
        k = key(record)
        found = seen.get(k)
        if found is None:
            found = seen[k] = len(reps)
            reps.append(row)
        ids[row] = found
    if not reps:
        reps.append(0)
    return ids, np.asarray(reps, dtype=np.int64)


def _levels_key(record: Any) -> Hashable:
    return tuple(sorted(record.languages.items()))


def _hours_key(record: Any) -> Hashable:
    return (record.hours_min, record.hours_max)


#: Per factor (other than competences): what of a record its pair score reads, on either side. Travel and
#: occupation use the index's own row classes.
_FACTOR_KEYS: dict[str, Callable[[Any], Hashable]] = {
    "language": _levels_key,
    "hours": _hours_key,
    "education": lambda r: r.education,
    "driving_licences": lambda r: r.licences,
    "certificates": lambda r: r.certificates,
}
_UNMET_SHIFT = np.int64(1) << np.int64(32)


@dataclass
class _ClassTables:
    """Batch scoring by class: every factor except competences depends on a few fields of each side, so it is
    scored once per pair of classes (candidate class × vacancy class) with the factor's own code, and a pair
    looks its contribution up. Contribution and unmet count share one int64 (unmet in the high bits)."""

    engine: MatchEngine
    c_off: list[IntArray]  # per table: candidate class × width, per candidate row
    v_ids: list[IntArray]  # per table: vacancy class, per vacancy row
    tables: list[IntArray]  # per table: contribution + unmet · 2³², flat

    @classmethod
    def build(cls, engine: MatchEngine, cands: CandidateIndex, vacs: VacancyIndex) -> _ClassTables:
        thresholds = engine.algorithm.thresholds
        groups: list[
            tuple[tuple[str, ...], tuple[npt.NDArray[Any], IntArray], tuple[npt.NDArray[Any], IntArray]]
        ]
        groups = [
            (("travel",), cands.classes("travel"), vacs.classes("travel")),
            (("occupation",), cands.classes("occupation"), vacs.classes("occupation")),
        ]
        for factor, key in _FACTOR_KEYS.items():
            groups.append(((factor,), _subclasses(cands, key), _subclasses(vacs, key)))
        c_off: list[IntArray] = []
        v_ids: list[IntArray] = []
        tables: list[IntArray] = []
        for factors, (c_cls, c_reps), (v_cls, v_reps) in groups:
            n_c, n_v = c_reps.size, v_reps.size
            c_pos = np.repeat(np.arange(n_c, dtype=np.int64), n_v)
            v_pos = np.tile(np.arange(n_v, dtype=np.int64), n_c)
            block = PairBlock.pairs(cands, c_reps, c_pos, vacs, v_reps, v_pos)
            table = np.zeros(n_c * n_v, dtype=np.int64)
            for factor in factors:
                result = FACTORS[factor].score(block, thresholds)
                s = np.asarray(result.score, dtype=np.float64)
                table += np.rint(s * engine._weights100[factor]).astype(np.int64)
                if result.unmet is not None:
                    table += np.asarray(result.unmet, dtype=np.int64) * _UNMET_SHIFT
            c_off.append(c_cls.astype(np.int64) * n_v)
            v_ids.append(v_cls.astype(np.int64))
            tables.append(table)
        return cls(engine, c_off, v_ids, tables)

    def score(self, block: PairBlock, c_rows: IntArray, v_rows: IntArray) -> tuple[IntArray, IntArray]:
        """Scores (hundredths) and unmet counts of the pairs of a block, as ``MatchEngine.score_block``."""
        engine = self.engine
        comp = np.asarray(FACTORS["competences"].score(block, engine.algorithm.thresholds).score, np.float64)
        total = np.rint(comp * engine._weights100["competences"]).astype(np.int64)
        for c_off, v_ids, table in zip(self.c_off, self.v_ids, self.tables, strict=True):
            total += table[c_off[c_rows] + v_ids[v_rows]]
        unmet = total >> np.int64(32)
        base = total & (_UNMET_SHIFT - 1)
        multiplier = np.asarray(engine._multipliers)[np.minimum(unmet, _MAX_UNMET)]
        score = np.where(unmet > 0, np.rint(base * multiplier).astype(np.int64), base)
        return score, unmet


_JOB: _BatchJob | None = None  # in a forked batch worker: the job it serves


def _set_job(job: _BatchJob) -> None:
    global _JOB
    _JOB = job


def _run_forked(rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    assert _JOB is not None
    return _JOB.run(rows)


def _parallel(
    job: _BatchJob,
    chunks: list[IntArray],
    workers: int,
    emit: Callable[[IntArray, tuple[IntArray, IntArray, IntArray]], Iterator[tuple[str, list]]],
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Score chunks in ``workers`` forked processes: the job (indexes, tables) reaches them through fork,
    copy-on-write, and only row numbers and compact results travel; where fork is unavailable, threads."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        context = None
    if context is None:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for rows, out in zip(chunks, pool.map(job.run, chunks), strict=True):
                yield from emit(rows, out)
        return
    with context.Pool(processes=workers, initializer=_set_job, initargs=(job,)) as pool:
        for rows, out in zip(chunks, pool.imap(_run_forked, chunks), strict=True):
            yield from emit(rows, out)
