"""Batch ranking: the top-K per profile over whole indexes, in both directions (the nightly batch's engine).

Only pairs that pass the hard filters count (eligible, within reach in an allowed country, every hard
requirement met). Filtering happens at class level (:class:`_BatchPlan`): candidates and vacancies fall into a few
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
from matching.engine import MatchEngine
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
    context: BatchContext | None = None,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Per query profile (all live ones, or ``ids``) its top-``k`` feasible targets, best first."""
    candidates_query = isinstance(query, CandidateIndex)
    cands: CandidateIndex = query if candidates_query else target  # type: ignore[assignment]
    vacs: VacancyIndex = target if candidates_query else query  # type: ignore[assignment]
    if context is None or not context.serves(engine, cands, vacs):
        context = BatchContext.build(engine, cands, vacs)
    q_rows = context.query_rows(candidates_query, ids)
    if q_rows.size == 0:
        return
    query_ids = query.row_ids
    target_ids = target.row_ids
    if not context.has_targets(candidates_query):
        for row in q_rows.tolist():
            yield str(query_ids[row]), []
        return
    job = _GridJob(context, candidates_query, k)
    chunks = [q_rows[i : i + chunk] for i in range(0, q_rows.size, chunk)]

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


@dataclass
class _Direction:
    """Per direction: the hard-filter tables oriented query × target, the live targets, and each target's
    rank by id (for ties)."""

    q_sig: IntArray
    q_tr: IntArray
    t_sig: IntArray
    t_tr: IntArray
    compatible: npt.NDArray[np.bool_]  # query signature × target signature
    within: npt.NDArray[np.bool_]  # query travel class × target travel class
    t_rows: IntArray  # live target rows, ascending
    id_rank: IntArray  # per target row: rank of its id among the live targets


class BatchContext:
    """What every batch block of one (candidate index, vacancy index) pair reuses: the feasibility plan, the
    factor tables, transposed concept matrices and the tie-break order. Build once per snapshot (a batch worker
    keeps it for all its chunks); it is only valid while neither index changes."""

    def __init__(self, engine: MatchEngine, cands: CandidateIndex, vacs: VacancyIndex) -> None:
        cands.materialise()
        vacs.materialise()
        self.engine = engine
        self.cands = cands
        self.vacs = vacs
        self._stamp = self._stamp_of(cands, vacs)
        self.plan = _BatchPlan.build(cands, vacs)
        self.tables = _ClassTables.build(engine, cands, vacs)
        self._directions: dict[bool, _Direction] = {}
        self._products: dict[str, sp.csr_matrix] = {}
        self._dense: dict[str, FloatArray] = {}

    @classmethod
    def build(cls, engine: MatchEngine, cands: CandidateIndex, vacs: VacancyIndex) -> BatchContext:
        """A context for ranking ``cands`` against ``vacs`` (both directions) with ``engine``."""
        return cls(engine, cands, vacs)

    @staticmethod
    def _stamp_of(cands: CandidateIndex, vacs: VacancyIndex) -> tuple[object, ...]:
        return (len(cands.row_ids), len(cands), cands.matrix("held"), len(vacs.row_ids), len(vacs))

    def serves(self, engine: MatchEngine, cands: CandidateIndex, vacs: VacancyIndex) -> bool:
        """Whether this context was built for these (unchanged) indexes and engine."""
        return (
            engine is self.engine
            and cands is self.cands
            and vacs is self.vacs
            and self._stamp == self._stamp_of(cands, vacs)
        )

    # -- per direction -------------------------------------------------------------------------------
    def direction(self, candidates_query: bool) -> _Direction:
        found = self._directions.get(candidates_query)
        if found is None:
            target = self.vacs if candidates_query else self.cands
            t_rows = np.flatnonzero(target.alive)
            # Ties break by id: the rank of each target's id among all live targets (global, so any
            # chunking or subset of queries orders equal scores the same way).
            id_rank = np.zeros(len(target.row_ids), dtype=np.int64)
            id_rank[t_rows[np.argsort(target.row_ids[t_rows].astype(str), kind="stable")]] = np.arange(
                t_rows.size
            )
            q_sig, q_tr, t_sig, t_tr, (compatible, within) = self.plan.side(candidates_query)
            found = self._directions[candidates_query] = _Direction(
                q_sig, q_tr, t_sig, t_tr, compatible, within, t_rows, id_rank
            )
        return found

    def has_targets(self, candidates_query: bool) -> bool:
        return bool(self.direction(candidates_query).t_rows.size)

    def rank_rows(self, candidates_query: bool, rows: IntArray, k: int) -> tuple[IntArray, IntArray, IntArray]:
        """Top-``k`` per query row, rows in the given order: (count per row, target rows, scores in
        hundredths), best first per row; ties break by target id."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0 or not self.has_targets(candidates_query):
            empty = np.zeros(0, dtype=np.int64)
            return np.zeros(rows.size, dtype=np.int64), empty, empty
        return _GridJob(self, candidates_query, k).run(rows)

    def query_rows(self, candidates_query: bool, ids: Sequence[str] | None) -> IntArray:
        """Query rows in a deterministic spatial order (coarse cells, then row), so blocks stay compact."""
        query = self.cands if candidates_query else self.vacs
        if ids is None:
            rows = np.flatnonzero(query.alive)
        else:
            rows = np.asarray([query.row(i) for i in ids], dtype=np.int64)
        xyz = query.array("xyz")
        order = np.lexsort((rows, np.round(xyz[rows, 0] * 200), np.round(xyz[rows, 2] * 200)))
        return rows[order]

    # -- concept products -------------------------------------------------------------------------------
    def product(self, name: str) -> sp.csr_matrix:
        """Cached matrices for the grid products (see :class:`GridBlock`)."""
        found = self._products.get(name)
        if found is not None:
            return found
        related_credit = dyadic(self.engine.algorithm.thresholds["related_credit"])
        width = max(
            self.cands.matrix("held").shape[1],
            *(self.vacs.matrix(m).shape[1] for m in ("required", "desired", "listed_extra")),
        )
        if name == "skills":  # candidate credits: held 1, related-only related_credit (dyadic: exact in f32)
            held = _widen(self.cands.matrix("held"), width)
            related = _widen(self.cands.matrix("related"), width)
            found = (held + related * np.float32(related_credit)).tocsr()
        elif name == "held":
            found = _widen(self.cands.matrix("held"), width)
        elif name.endswith(".T"):
            found = self.product(name[:-2]).T.tocsr()
        elif name.startswith("vac:"):
            found = _widen(self.vacs.matrix(name[4:]), width)
        elif name == "profiles":
            found = _widen(self.vacs.vocab.profiles.matrix(0), width)
        else:
            raise KeyError(name)
        if not found.has_sorted_indices:  # (a copy: index matrices may share read-only arrays)
            found = found.sorted_indices()
        self._products[name] = found
        return found

    def profile_by_candidate(self) -> FloatArray:
        """Per occupation profile (rows, plus a zero row for "no profile") and candidate: held concepts of
        the candidate in the profile."""
        found = self._dense.get("profile_by_candidate")
        if found is None:
            per = (self.product("profiles") @ self.product("held.T")).toarray().astype(np.float64)
            found = self._dense["profile_by_candidate"] = np.concatenate(
                [per, np.zeros((1, per.shape[1]))], axis=0
            )
        return found


def _widen(matrix: sp.csr_matrix, columns: int) -> sp.csr_matrix:
    if matrix.shape[1] == columns:
        return matrix
    return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], columns))


class GridBlock(PairBlock):
    """Every pair of some query rows × some target rows as a dense grid (query rows along axis 0).

    Per-profile arrays come back shaped ``(n, 1)`` (query side) or ``(1, m)`` (target side), so a factor's
    elementwise code broadcasts to the grid unchanged and gives the same numbers as for explicit pairs; the
    concept products are sparse matrix products over the whole grid. Used by the batch for the competences
    factor (the other factors come from class tables).
    """

    def __init__(
        self, context: BatchContext, candidates_query: bool, q_rows: IntArray, t_rows: IntArray
    ) -> None:
        self.context = context
        self.candidates = context.cands
        self.vacancies = context.vacs
        self.c_single = self.v_single = False
        self.is_pairs = False
        self.candidates_query = candidates_query
        self.q_rows = q_rows
        self.t_rows = t_rows
        c_rows, v_rows = (q_rows, t_rows) if candidates_query else (t_rows, q_rows)
        self.c_rows, self.v_rows = c_rows, v_rows
        self._c_shape = (-1, 1) if candidates_query else (1, -1)
        self._v_shape = (1, -1) if candidates_query else (-1, 1)
        self._shape = (q_rows.size, t_rows.size)
        self._cache: dict[str, FloatArray] = {}
        self._rows_cache: dict[str, sp.csr_matrix] = {}
        self._distance = None
        self.transposed = {}
        self._c_unique = self._v_unique = self._c_pos = self._v_pos = None
        self._column_of: IntArray | None = None

    def c(self, name: str) -> np.ndarray:
        return self.candidates.array(name)[self.c_rows].reshape(self._c_shape)

    def v(self, name: str) -> np.ndarray:
        return self.vacancies.array(name)[self.v_rows].reshape(self._v_shape)

    def c_count(self, matrix_name: str) -> np.ndarray:
        return np.diff(self.candidates.matrix(matrix_name).indptr)[self.c_rows].reshape(self._c_shape)

    def _grid(self, c_name: str, v_name: str) -> FloatArray:
        """Σ_k C[c, k] · V[v, k] for every pair of the grid (float64 of exact float32 sums)."""
        ctx = self.context
        if self.candidates_query:
            product = self.query_rows_of(c_name) @ ctx.product(f"vac:{v_name}.T")
        else:
            product = self.query_rows_of(f"vac:{v_name}") @ ctx.product(f"{c_name}.T")
        return _dense_columns(product, self.column_of(), self.t_rows.size)

    def query_rows_of(self, name: str) -> sp.csr_matrix:
        """The block's query rows of a context matrix (cached per block)."""
        key = f"rows|{name}"
        found = self._rows_cache.get(key)
        if found is None:
            found = self._rows_cache[key] = _csr_rows(self.context.product(name), self.q_rows)
        return found

    def column_of(self) -> IntArray:
        """Per target row: its column in this grid (-1 when not in it)."""
        found = self._column_of
        if found is None:
            n = len(self.vacancies.row_ids) if self.candidates_query else len(self.candidates.row_ids)
            found = np.full(n, -1, dtype=np.int64)
            found[self.t_rows] = np.arange(self.t_rows.size)
            self._column_of = found
        return found

    def overlap(self, c_matrix: str, v_matrix: str) -> FloatArray:
        key = f"{c_matrix}|{v_matrix}"
        hit = self._cache.get(key)
        if hit is None:
            if c_matrix != "held":
                raise NotImplementedError(c_matrix)
            hit = self._cache[key] = self._grid("held", v_matrix)
        return hit

    def skill_credits(self, v_matrix: str, related_credit: float) -> FloatArray:
        key = f"credits|{v_matrix}|{related_credit}"
        hit = self._cache.get(key)
        if hit is None:
            if related_credit != dyadic(self.context.engine.algorithm.thresholds["related_credit"]):
                raise ValueError("the batch context was built for another related credit")
            hit = self._cache[key] = self._grid("skills", v_matrix)
        return hit

    def profile_overlap(self) -> FloatArray:
        hit = self._cache.get("profile")
        if hit is not None:
            return hit
        ctx = self.context
        prof_ids = self.vacancies.array("profile")[self.v_rows]  # -1: none → the last (zero) row/column
        if self.candidates_query:
            per = (self.query_rows_of("held") @ ctx.product("profiles.T")).toarray().astype(np.float64)
            per = np.concatenate([per, np.zeros((per.shape[0], 1))], axis=1)
            out = per[:, prof_ids]
        else:
            out = ctx.profile_by_candidate()[prof_ids][:, self.t_rows]
        out = out + self.overlap("held", "listed_extra")
        self._cache["profile"] = out
        return out

    def distance_km(self) -> FloatArray:
        raise NotImplementedError("the batch takes distances from the travel classes")


def _csr_rows(matrix: sp.csr_matrix, rows: IntArray) -> sp.csr_matrix:
    """``matrix[rows]`` for a few rows, without scipy's general fancy-indexing overhead."""
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1].astype(np.int64) - starts
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    at = np.repeat(starts - indptr[:-1], lengths) + np.arange(int(indptr[-1]), dtype=np.int64)
    return sp.csr_matrix(
        (matrix.data[at], matrix.indices[at], indptr), shape=(rows.size, matrix.shape[1])
    )


def _dense_columns(product: sp.spmatrix, column_of: IntArray, n_columns: int) -> FloatArray:
    """A sparse product (query rows × all target rows) as a dense float64 grid over the grid's columns."""
    product = product.tocsr()
    dense = np.zeros((product.shape[0], n_columns), dtype=np.float64)
    columns = column_of[product.indices]
    keep = columns >= 0
    rows_of = np.repeat(np.arange(product.shape[0], dtype=np.int64), np.diff(product.indptr))
    dense[rows_of[keep], columns[keep]] = product.data[keep]
    return dense


#: Grid cells one block scores at once. The competence arithmetic makes a dozen float64 temporaries per cell;
#: blocks this small keep them in the CPU cache (measured: 1.5 M cells per block ran at 5–6 M cells per CPU-second,
#: 100–300 k cells at 8–11 M), and bound a worker's scratch memory to a few MB.
GRID_CELLS = 150_000


@dataclass
class _GridJob:
    """Scores blocks of query rows against their feasible targets; ``run`` returns the top-k per row."""

    context: BatchContext
    candidates_query: bool
    k: int

    def run(self, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Top-k per query row: (count per row, target rows, scores in hundredths), rows in order."""
        d = self.context.direction(self.candidates_query)
        # Blocks of query rows with the same requirement signature and travel class where possible: they
        # can take the same targets, so their grid holds few infeasible cells (at Twente scale 0.93 of the
        # vacancy → candidates grid cells are feasible this way, 0.48 in plain spatial order).
        # Candidates (whose reach differs per row) group best by travel class first, vacancies by signature
        # (measured on Twente and on the spread-out synthetic world of benchmarks.engine_bench).
        first, second = (d.q_tr, d.q_sig) if self.candidates_query else (d.q_sig, d.q_tr)
        perm = np.lexsort((np.arange(rows.size), second[rows], first[rows]))
        ordered = rows[perm]
        step = max(1, min(rows.size, GRID_CELLS // max(d.t_rows.size, 1)))
        parts = [self._block(ordered[i : i + step], d) for i in range(0, rows.size, step)]
        counts = np.concatenate([p[0] for p in parts])
        tops = np.concatenate([p[1] for p in parts])
        scores = np.concatenate([p[2] for p in parts])
        # Back to the caller's row order: row perm[j]'s results are segment j.
        starts = np.cumsum(counts) - counts
        back = np.empty_like(perm)
        back[perm] = np.arange(perm.size)
        counts_out = counts[back]
        seg = np.repeat(starts[back] - (np.cumsum(counts_out) - counts_out), counts_out) + np.arange(
            int(counts_out.sum())
        )
        return counts_out, tops[seg], scores[seg]

    def _block(self, rows: IntArray, direction: _Direction) -> tuple[IntArray, IntArray, IntArray]:
        ctx = self.context
        cq = self.candidates_query
        d = direction
        empty = np.zeros(0, dtype=np.int64)
        compatible = d.compatible[d.q_sig[rows]]  # query rows × target signatures
        within = d.within[d.q_tr[rows]]  # query rows × target travel classes
        # Regional blocking: targets that at least one row of the block can take (a superset of each row's).
        targets = d.t_rows[
            compatible.any(axis=0)[d.t_sig[d.t_rows]] & within.any(axis=0)[d.t_tr[d.t_rows]]
        ]
        if targets.size == 0:
            return np.zeros(rows.size, dtype=np.int64), empty, empty
        feasible = compatible[:, d.t_sig[targets]] & within[:, d.t_tr[targets]]
        block = GridBlock(ctx, cq, rows, targets)
        score = ctx.tables.score_grid(block)
        n = np.int64(direction.id_rank.size)
        # One key per cell: score first, then the target's id (lower id wins a tie); -1 = not feasible.
        key = np.where(
            feasible & (score < _UNMET_SHIFT_GRID),
            score.astype(np.int64) * n + (n - 1 - direction.id_rank[targets])[None, :],
            np.int64(-1),
        )
        k = min(self.k, targets.size)
        if k <= 0:
            return np.zeros(rows.size, dtype=np.int64), empty, empty
        top = np.argpartition(key, targets.size - k, axis=1)[:, targets.size - k :]
        top_keys = np.take_along_axis(key, top, axis=1)
        order = np.argsort(-top_keys, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_keys = np.take_along_axis(top_keys, order, axis=1)
        valid = top_keys >= 0
        counts = valid.sum(axis=1).astype(np.int64)
        return counts, targets[top[valid]], (top_keys[valid] // n).astype(np.int64)


def _compatible(c_reps: Sequence[EncodedCandidate], v_reps: Sequence[EncodedVacancy]) -> npt.NDArray[np.bool_]:
    """``[i, j]``: candidate signature i meets every hard requirement of vacancy signature j (garantiebaan
    eligibility, country, driving licences, certificates, language minimums), all pairs at once."""
    n_c, n_v = max(len(c_reps), 1), max(len(v_reps), 1)
    out = np.zeros((n_c, n_v), dtype=bool)
    if not c_reps or not v_reps:
        return out
    countries = sorted({v.country for v in v_reps})
    certs = sorted({k for v in v_reps for k in v.certificates})
    langs = sorted({lang for v in v_reps for lang in v.languages})
    cert_at = {k: i for i, k in enumerate(certs)}

    def c_certs(c: EncodedCandidate) -> list[int]:
        return [cert_at[k] for k in c.certificates if k in cert_at]

    tgr = np.array([c.target_group_register for c in c_reps], dtype=bool)
    garantie = np.array([v.garantiebaan for v in v_reps], dtype=bool)
    works_in = np.array([[country in c.work_countries for country in countries] for c in c_reps], dtype=bool)
    v_country = np.array([countries.index(v.country) for v in v_reps], dtype=np.int64)
    c_lic = np.array([c.licences for c in c_reps], dtype=np.int64)
    v_lic = np.array([v.licences for v in v_reps], dtype=np.int64)
    out = (tgr[:, None] | ~garantie[None, :]) & works_in[:, v_country] & ((v_lic[None, :] & ~c_lic[:, None]) == 0)
    if certs:
        held = np.zeros((n_c, len(certs)), dtype=np.int32)
        for i, c in enumerate(c_reps):
            held[i, c_certs(c)] = 1
        wanted = np.zeros((n_v, len(certs)), dtype=np.int32)
        for j, v in enumerate(v_reps):
            wanted[j, [cert_at[k] for k in v.certificates]] = 1
        out &= (held @ wanted.T) == wanted.sum(axis=1)[None, :]
    for lang in langs:
        have = np.array([c.languages.get(lang, 0) for c in c_reps], dtype=np.int64)
        need = np.array([v.languages.get(lang, 0) for v in v_reps], dtype=np.int64)
        out &= have[:, None] >= need[None, :]
    return out


@dataclass
class _BatchPlan:
    """Hard filters at class level.

    Requirement signatures (languages, licences, certificates, countries, garantiebaan) are compatible or not
    as a whole; travel classes (location, reach) are within reach or not. A pair is feasible — no unmet hard
    requirement, eligible, within reach — exactly when ``compatible[c_sig, v_sig] & within[c_tr, v_tr]``.
    Both tables are small (signatures × signatures, locations × locations), whatever the number of profiles.
    """

    c_sig: IntArray
    v_sig: IntArray
    compatible: npt.NDArray[np.bool_]
    c_tr: IntArray
    v_tr: IntArray
    within: npt.NDArray[np.bool_]

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
        compatible = _compatible(c_reps, v_reps)
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
        return cls(
            c_sig,
            v_sig,
            compatible,
            c_travel.astype(np.int64),
            v_travel.astype(np.int64),
            within,
        )

    def side(self, candidates_query: bool) -> tuple[IntArray, IntArray, IntArray, IntArray, _Tables2]:
        """(query sig, query travel class, target sig, target travel class, (compatible, within) oriented
        query × target)."""
        if candidates_query:
            return self.c_sig, self.c_tr, self.v_sig, self.v_tr, (self.compatible, self.within)
        return (
            self.v_sig,
            self.v_tr,
            self.c_sig,
            self.c_tr,
            (np.ascontiguousarray(self.compatible.T), np.ascontiguousarray(self.within.T)),
        )


_Tables2 = tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]


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

#: Factors whose class tables are combined into one where the combined table has at most
#: ``_COMBINED_TABLE_MAX`` cells (at Twente scale: about 0.1 M and 1 M).
_COMBINED: tuple[tuple[str, ...], ...] = (("language", "education", "driving_licences"), ("hours", "certificates"))
_COMBINED_TABLE_MAX = 4_000_000
assert sorted(f for group in _COMBINED for f in group) == sorted(_FACTOR_KEYS)


def _combined_key(factors: tuple[str, ...]) -> Callable[[Any], Hashable]:
    keys = [_FACTOR_KEYS[f] for f in factors]
    return lambda record: tuple(k(record) for k in keys)


@dataclass
class _ClassTables:
    """Batch scoring by class: every factor except competences depends on a few fields of each side, so it is
    scored once per pair of classes (candidate class × vacancy class) with the factor's own code, and a pair
    looks its contribution up. Contribution (≤ 10,000 hundredths) and unmet count share one int32 (unmet from
    bit 16), so a grid cell with any unmet hard requirement sums to ≥ 2¹⁶."""

    engine: MatchEngine
    c_off: list[npt.NDArray[np.int32]]  # per table: candidate class × width, per candidate row
    v_ids: list[npt.NDArray[np.int32]]  # per table: vacancy class, per vacancy row
    tables: list[npt.NDArray[np.int32]]  # per table: contribution + unmet · 2¹⁶, flat

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
        for combined in _COMBINED:
            # Factors that read few fields share one table when the table stays small (fewer lookups per
            # pair); otherwise each gets its own.
            key = _combined_key(combined)
            c_side, v_side = _subclasses(cands, key), _subclasses(vacs, key)
            if c_side[1].size * v_side[1].size <= _COMBINED_TABLE_MAX:
                groups.append((combined, c_side, v_side))
                continue
            for factor in combined:
                key = _FACTOR_KEYS[factor]
                groups.append(((factor,), _subclasses(cands, key), _subclasses(vacs, key)))
        c_off: list[npt.NDArray[np.int32]] = []
        v_ids: list[npt.NDArray[np.int32]] = []
        tables: list[npt.NDArray[np.int32]] = []
        for factors, (c_cls, c_reps), (v_cls, v_reps) in groups:
            n_c, n_v = c_reps.size, v_reps.size
            if n_c * n_v >= 2**31:
                raise ValueError("too many factor classes for one table")
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
            c_off.append((c_cls.astype(np.int64) * n_v).astype(np.int32))
            v_ids.append(v_cls.astype(np.int32))
            tables.append(table.astype(np.int32))
        return cls(engine, c_off, v_ids, tables)

    def score_grid(self, block: GridBlock) -> npt.NDArray[np.int32]:
        """Base score (hundredths) of every cell of a grid, plus 2¹⁶ per unmet hard requirement.

        For cells without unmet requirements this is the pair's score in ``MatchEngine.rank_vacancies``."""
        engine = self.engine
        comp = np.asarray(FACTORS["competences"].score(block, engine.algorithm.thresholds).score, np.float64)
        total = np.rint(comp * engine._weights100["competences"]).astype(np.int32)
        del comp
        c_axis = (slice(None), None) if block.candidates_query else (None, slice(None))
        v_axis = (None, slice(None)) if block.candidates_query else (slice(None), None)
        for c_off, v_ids, table in zip(self.c_off, self.v_ids, self.tables, strict=True):
            total += table[c_off[block.c_rows][c_axis] + v_ids[block.v_rows][v_axis]]
        return total


_UNMET_SHIFT = np.int64(1) << np.int64(16)
_UNMET_SHIFT_GRID = np.int32(1) << np.int32(16)


_JOB: _GridJob | None = None  # in a forked batch worker: the job it serves


def _set_job(job: _GridJob) -> None:
    global _JOB
    _JOB = job


def _run_forked(rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    assert _JOB is not None
    return _JOB.run(rows)


def _parallel(
    job: _GridJob,
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
