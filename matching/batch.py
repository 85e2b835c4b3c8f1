"""Batch ranking: the top-K per profile over whole indexes, in both directions (the nightly batch's engine).

Only pairs that pass the hard filters count (eligible, within reach in an allowed country, every hard
requirement met). Filtering happens at class level (:class:`_BatchPlan`): candidates and vacancies fall into a
few feasibility classes, and per query class only the target classes that are compatible and within reach are
scored. Every factor except competences is looked up per pair of classes (:class:`_ClassTables`), scored with
the factor's own code, so batch scores are identical to the live path's (``MatchEngine.rank_vacancies``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.encoding import EncodedCandidate, EncodedVacancy, dyadic
from matching.engine import MatchEngine
from matching.factors import FACTORS
from matching.factors.competences import points_bound
from matching.index import CandidateIndex, PairBlock, VacancyIndex, chord_to_km

__all__ = ["batch_top_k"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The batch builds its profile × candidate count table only while the build's peak stays within this size
#: (the float32 product, 4 bytes per occupation profile and candidate, beside the kept table: 2 bytes as
#: int16, 8 as float64), and computes the counts per block beyond it (see BatchContext.profile_by_candidate).
PROFILE_TABLE_MAX_BYTES = 256 << 20


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
    # The factor class tables: per table (query row → class, target row → class, table query class × target
    # class), the pair's entry at [query class, target class]. Entries with an unmet hard requirement are
    # _BAD, and the travel table is _BAD where the pair is out of reach: a cell's sum is > _OK_MIN exactly
    # when the pair is within reach and meets every requirement the factors check; it is then the score
    # without the competences.
    oriented: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]]


class BatchContext:
    """What every batch block of one (candidate index, vacancy index) pair reuses: the feasibility plan, the
    factor tables, transposed concept matrices and the tie-break order. Build once per snapshot (a batch
    worker keeps it for all its chunks); it is only valid while neither index changes."""

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
        self._concepts: tuple[IntArray, IntArray, IntArray, FloatArray | None] | None = None

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
            oriented = self.tables.oriented(candidates_query, within)
            found = self._directions[candidates_query] = _Direction(
                q_sig, q_tr, t_sig, t_tr, compatible, within, t_rows, id_rank, oriented
            )
        return found

    def has_targets(self, candidates_query: bool) -> bool:
        return bool(self.direction(candidates_query).t_rows.size)

    def rank_rows(
        self, candidates_query: bool, rows: IntArray, k: int
    ) -> tuple[IntArray, IntArray, IntArray]:
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
        elif name == "vac:required+desired":  # required rows, then desired rows
            found = sp.vstack([self.product("vac:required"), self.product("vac:desired")], format="csr")
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

    def exact_pairs(self) -> bool:
        """Whether every concept sum of a pair is exact in float32 in any order (values multiples of 2⁻⁴ of
        magnitude ≤ 16, at most 255 concepts per vacancy list), so :class:`_PairSource` gives the grid
        products' values bit for bit."""
        found = self._dense.get("exact")
        if found is None:
            ok = True
            for name in ("skills", "held", "vac:required", "vac:desired", "vac:listed_extra"):
                m = self.product(name)
                scaled = m.data.astype(np.float64) * 16
                ok &= bool(np.all(scaled == np.rint(scaled)) and np.all(np.abs(m.data) <= 16))
                if name.startswith("vac:") and m.shape[0]:
                    ok &= int(np.diff(m.indptr).max()) <= 255
            found = self._dense["exact"] = np.asarray(ok)
        return bool(found)

    def vacancy_concepts(self) -> tuple[IntArray, IntArray, IntArray, FloatArray | None]:
        """Per vacancy row its required (tag 0), desired (tag 1) and listed-extra (tag 2) concepts as one
        CSR: (indptr, column in :meth:`dense_rows` — extra ones in the held half, tag, value or None where
        every value is 1)."""
        found = self._concepts
        if found is None:
            width = self.product("vac:required").shape[1]
            parts = [self.product(f"vac:{name}") for name in ("required", "desired", "listed_extra")]
            n = parts[0].shape[0]
            lengths = np.stack([np.diff(p.indptr) for p in parts], axis=1)  # vacancies × 3
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(lengths.sum(axis=1), out=indptr[1:])
            cols = np.empty(int(indptr[-1]), dtype=np.int64)
            tags = np.empty(cols.size, dtype=np.int64)
            data = np.empty(cols.size, dtype=np.float64)
            before = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(lengths, axis=1)[:, :2]], axis=1)
            offset = indptr[:-1] + before.T  # per tag: where each vacancy's entries of that tag start
            for tag, p in enumerate(parts):
                at = np.repeat(offset[tag] - p.indptr[:-1], np.diff(p.indptr))
                at += np.arange(p.nnz, dtype=np.int64)
                cols[at] = p.indices + (width if tag == 2 else 0)
                tags[at] = tag
                data[at] = p.data
            found = self._concepts = (indptr, cols, tags, None if bool(np.all(data == 1.0)) else data)
        return found

    def vacancy_slots(self) -> tuple[npt.NDArray[np.int64], tuple[int, int, int, int]] | None:
        """:meth:`vacancy_concepts` padded to fixed slots per vacancy — required, desired, listed extra, each
        as wide as its longest list, padding pointing at the zero column of :meth:`dense_rows` — where every
        value is 1 and the lists are short (else None). A pair's sums are then float32 sums of exact
        values."""
        if "slots" not in self._dense:
            found = None
            indptr, cols, tags, data = self.vacancy_concepts()
            n = indptr.size - 1
            row = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
            lengths = np.zeros((n, 3), dtype=np.int64)
            np.add.at(lengths, (row, tags), 1)
            widths = lengths.max(axis=0) if n else np.zeros(3, np.int64)
            if data is None and n and int(widths.sum()) <= _MAX_SLOTS:
                zero = 2 * self.product("vac:required").shape[1]
                bounds = (0, int(widths[0]), int(widths[:2].sum()), int(widths.sum()))
                table = np.full((n, bounds[3]), zero, dtype=np.int64)
                # Entries are grouped per vacancy by tag (required, desired, extra), in that order.
                position = np.arange(cols.size, dtype=np.int64) - np.repeat(indptr[:-1], np.diff(indptr))
                before = np.zeros((n, 3), dtype=np.int64)
                before[:, 1:] = np.cumsum(lengths, axis=1)[:, :2]
                slot = position - before[row, tags] + np.asarray(bounds[:3], dtype=np.int64)[tags]
                table[row, slot] = cols
                found = (table, bounds)
            self._dense["slots"] = found  # type: ignore[assignment]
        return self._dense["slots"]  # type: ignore[return-value]

    def dense_rows(self, rows: IntArray) -> npt.NDArray[np.float32]:
        """Candidate rows as dense float32 vectors: skill credits, then held concepts, then one zero."""
        skills = _csr_rows(self.product("skills"), rows)
        held = _csr_rows(self.product("held"), rows)
        width = skills.shape[1]
        out = np.zeros((rows.size, 2 * width + 1), dtype=np.float32)
        for part, shift in ((skills, 0), (held, width)):
            rows_of = np.repeat(np.arange(rows.size, dtype=np.int64), np.diff(part.indptr))
            out[rows_of, part.indices + shift] = part.data
        return out

    def competence_bound(self) -> _CompetenceBound | None:
        """What bounds a pair's competence points from above without the concept sums (see
        :class:`_CompetenceBound`); None where the counts would not bound the overlaps (a held or listed-extra
        value other than 0 or 1) or where the profile × candidate table is not kept (too large)."""
        if "competence_bound" not in self._dense:
            found = None
            held = self.cands.matrix("held")
            extra = self.vacs.matrix("listed_extra")
            if self.profile_by_candidate() is not None and all(
                m.nnz == 0 or (float(m.data.min()) >= 0.0 and float(m.data.max()) <= 1.0)
                for m in (held, extra)
            ):
                found = _CompetenceBound.build(self, held, extra)
            self._dense["competence_bound"] = found  # type: ignore[assignment]
        return self._dense["competence_bound"]  # type: ignore[return-value]

    def profile_by_candidate(self) -> npt.NDArray[Any] | None:
        """Per occupation profile (rows, plus a zero row for "no profile") and candidate: held concepts of
        the candidate in the profile. Counts are whole numbers (every value 1), so they are kept as int16
        (a quarter of float64's memory; readers add them to float64 sums, exactly); float64 otherwise.

        None when building it would take more than :data:`PROFILE_TABLE_MAX_BYTES` (thousands of distinct
        profiles over a national caseload): :meth:`profile_counts` then computes the counts per block."""
        if "profile_by_candidate" not in self._dense:
            found = None
            shape = (self.product("profiles").shape[0] + 1, self.product("held").shape[0])
            cells = shape[0] * shape[1]
            if cells * (4 + 2) <= PROFILE_TABLE_MAX_BYTES:
                per = (self.product("profiles") @ self.product("held.T")).toarray()  # float32
                whole = per.size == 0 or (float(per.max()) < 2**15 and bool(np.all(per == np.rint(per))))
                if whole or cells * (4 + 8) <= PROFILE_TABLE_MAX_BYTES:
                    found = np.zeros(shape, dtype=np.int16 if whole else np.float64)
                    found[:-1] = per  # the last row stays zero: "no profile"
            self._dense["profile_by_candidate"] = found  # type: ignore[assignment]
        return self._dense["profile_by_candidate"]

    def profile_counts(self, profiles: IntArray, candidates: IntArray, *, grid: bool) -> npt.NDArray[Any]:
        """Held concepts of candidate rows in occupation profiles (-1: none, counts 0): every profile ×
        every candidate (``grid``, shape (profiles, candidates)) or pair by pair (equal lengths). From the
        table where it is kept; otherwise the distinct profiles' rows times the distinct candidates' held
        concepts, the same whole numbers."""
        table = self.profile_by_candidate()
        if table is not None:
            return table[profiles][:, candidates] if grid else table[profiles, candidates]
        p_uniq, p_at = np.unique(profiles, return_inverse=True)
        c_uniq, c_at = (candidates, None) if grid else np.unique(candidates, return_inverse=True)
        counts = np.zeros((p_uniq.size, c_uniq.size), dtype=np.float64)
        real = p_uniq >= 0
        if real.any():
            rows = _csr_rows(self.product("profiles"), p_uniq[real])
            counts[real] = (rows @ _csr_rows(self.product("held"), c_uniq).T).toarray()
        return counts[p_at] if grid else counts[p_at, c_at]


@dataclass(frozen=True, slots=True)
class _CompetenceBound:
    """An upper bound of the competence points of a pair from counts, a few look-ups per pair.

    With an occupation profile the factor scores (1 − profile_share) · coverage + profile_share · fit, where
    coverage ≤ 1 and fit = (held concepts in the profile + held concepts among the listed extras) / held. The
    first count is exact per (profile, candidate); the second is at most min(listed extras, held) when every
    value is 0 or 1. ``points[held, n]`` is :func:`matching.factors.competences.points_bound` (the factor's
    own arithmetic on coverage 1 and numerator n, never below the pair's points); a vacancy without a profile
    scores coverage alone, ≤ 1, and its numerator is moved past every real one, to columns holding the
    factor's maximum.
    """

    by_profile: npt.NDArray[np.integer[Any]]  # (profiles + 1) × candidates: held concepts in the profile
    vac_profile: IntArray  # per vacancy: its profile row (the last, zero row where it has none)
    held: IntArray  # per candidate: held concepts
    extra: IntArray  # per vacancy: listed extras
    past: IntArray  # per vacancy: 0, or for one without a profile an offset past every real numerator
    points: npt.NDArray[np.int32]  # flat (held × width): points bound for (held, numerator)
    width: int

    @classmethod
    def build(cls, ctx: BatchContext, held: sp.csr_matrix, extra: sp.csr_matrix) -> _CompetenceBound:
        engine = ctx.engine
        held_n = np.diff(held.indptr).astype(np.int64)
        extra_n = np.diff(extra.indptr).astype(np.int64)
        per = ctx.profile_by_candidate()
        assert per is not None  # (competence_bound builds no bound without the table)
        h_max = int(held_n.max()) if held_n.size else 0
        top = int(np.ceil(per.max())) if per.size else 0
        # Numerators with a profile are ≤ top + h_max; those of vacancies without one start above them.
        none_at = top + h_max + 1
        width = none_at + h_max + 1
        # The count table itself where it holds whole numbers (no copy), else its ceiling.
        by_profile = per if per.dtype.kind == "i" else np.ceil(per).astype(np.int64)
        points = points_bound(
            np.arange(h_max + 1)[:, None],
            np.arange(width)[None, :],
            engine.algorithm.thresholds,
            engine._weights100["competences"],
        )
        points = np.minimum(points, engine._competences_max).astype(np.int32)  # a score is at most 1
        points[:, none_at:] = engine._competences_max
        profile = ctx.vacs.array("profile").astype(np.int64)
        vac_profile = np.where(profile >= 0, profile, per.shape[0] - 1)
        past = np.where(profile >= 0, 0, none_at).astype(np.int64)
        return cls(by_profile, vac_profile, held_n, extra_n, past, points.ravel(), width)

    def cells(self, candidates: IntArray, vacancies: IntArray) -> IntArray:
        """The bound per pair (candidate row, vacancy row)."""
        held = self.held[candidates]
        at = self.by_profile[self.vac_profile[vacancies], candidates].astype(np.int64)
        at += np.minimum(held, self.extra[vacancies])
        at += self.past[vacancies]
        at += held * self.width
        return np.take(self.points, at)


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
            out = ctx.profile_counts(prof_ids, self.t_rows, grid=True)
        out = out + self.overlap("held", "listed_extra")
        self._cache["profile"] = out
        return out

    def distance_km(self) -> FloatArray:
        raise NotImplementedError("the batch takes distances from the travel classes")


#: At most this many concept slots per vacancy for :meth:`BatchContext.vacancy_slots`.
_MAX_SLOTS = 48

#: Bucket width (a power of two) of the per-row histogram in :func:`_kth_lower_bound`.
_BUCKET_SHIFT = 6
_BUCKETS = (1 << 16) >> _BUCKET_SHIFT


def _kth_lower_bound(base: npt.NDArray[np.int32], k: int) -> npt.NDArray[np.int32]:
    """Per row a value ≤ its k-th largest cell above _OK_MIN (_OK_MIN + 1 for rows with fewer such cells),
    from a histogram of 2^_BUCKET_SHIFT-wide buckets (cheaper than a partition of the grid). Cells below 0
    are not counted, which can only lower the bound."""
    r = base.shape[0]
    # code 0: below 0 (excluded cells); code j ≥ 1: base in [(j-1)·w, j·w), the last code open-ended.
    code = np.right_shift(base, _BUCKET_SHIFT)
    np.clip(code, -1, _BUCKETS - 2, out=code)
    code += (np.arange(r, dtype=np.int32) * _BUCKETS + 1)[:, None]
    hist = np.bincount(code.ravel(), minlength=r * _BUCKETS).reshape(r, _BUCKETS)
    at_least = np.cumsum(hist[:, :0:-1], axis=1)[:, ::-1]  # [:, j-1]: cells with code ≥ j (j ≥ 1)
    j = np.count_nonzero(at_least >= k, axis=1)  # the highest code j with ≥ k cells at or above it
    return np.where(j > 0, (j - 1) << _BUCKET_SHIFT, _OK_MIN + 1).astype(np.int32)


def _row_order(ri: IntArray, key: IntArray) -> IntArray:
    """Order of cells by row (ascending), then key (descending); keys are unique within a row."""
    if key.size and 0 <= int(key.min()) and int(key.max()) < 2**32 and int(ri.max()) < 2**30:
        return np.argsort((ri.astype(np.int64) << 32) | ((2**32 - 1) - key))
    return np.lexsort((-key, ri))


class _PairSource:
    """Competence points of chosen cells of one block (query rows × targets), computed pair by pair with the
    factor's own code (:class:`_CellPairs`), so they equal the grid's (and the live path's) bit for bit.

    The concept sums per pair are exact (``BatchContext.exact_pairs``): candidates query → the block's query
    rows as dense vectors, summed over each vacancy's few concepts; vacancies query → sparse products of the
    block's vacancies with all candidates, scattered into a zeroed scratch buffer and read per pair."""

    def __init__(
        self,
        context: BatchContext,
        candidates_query: bool,
        rows: IntArray,
        targets: IntArray,
        scratch: dict[str, np.ndarray],
    ) -> None:
        self.context = context
        self.candidates_query = candidates_query
        self.rows = rows
        self.targets = targets
        self._scratch = scratch
        self._dense: npt.NDArray[np.float32] | None = None

    def credits(self, ri: IntArray, ci: IntArray) -> FloatArray:
        """Per pair (query row ri, target ci): Σ credits in required, desired; held in listed_extra."""
        ctx = self.context
        n_pairs = ri.size
        if self.candidates_query:
            dense = self._dense
            if dense is None:
                dense = self._dense = ctx.dense_rows(self.rows)  # rows × (skills | held | 0), float32
            v = self.targets[ci]
            slots = ctx.vacancy_slots()
            if slots is not None:
                # Every vacancy's concepts in a fixed number of slots (padding reads the zero column).
                table, bounds = slots
                values = dense.ravel()[table[v] + (ri * dense.shape[1])[:, None]]
                out = np.empty((n_pairs, 3), dtype=np.float64)
                for tag in range(3):
                    out[:, tag] = values[:, bounds[tag] : bounds[tag + 1]].sum(axis=1)
                return out
            indptr, cols, tags, data = ctx.vacancy_concepts()
            starts = indptr[v]
            lengths = indptr[v + 1] - starts
            ends = np.cumsum(lengths)
            total = int(ends[-1]) if ends.size else 0
            at = np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
            values = dense.ravel()[np.repeat(ri * dense.shape[1], lengths) + cols[at]].astype(np.float64)
            if data is not None:
                values *= data[at]
            bins = np.repeat(np.arange(n_pairs, dtype=np.int64) * 3, lengths) + tags[at]
            return np.bincount(bins, weights=values, minlength=3 * n_pairs).reshape(n_pairs, 3)
        buffer = self._products()
        r, width = self.rows.size, buffer.shape[1]
        at = ri * width + self.targets[ci]
        flat = buffer.ravel()
        out = np.empty((n_pairs, 3), dtype=np.float64)
        for tag in range(3):
            out[:, tag] = flat[at + tag * r * width]
        return out

    def _products(self) -> npt.NDArray[np.float32]:
        found = self._dense
        if found is not None:
            return found
        ctx = self.context
        r = self.rows.size
        n = len(ctx.cands.row_ids)
        buffer = self._scratch.get("products")
        if buffer is None or buffer.shape[0] < 3 * r or buffer.shape[1] != n:
            buffer = self._scratch["products"] = np.zeros((3 * r, n), dtype=np.float32)
            self._scratch.pop("dirty", None)
        elif "dirty" in self._scratch:  # a block stopped before cleaning up
            buffer.fill(0)
            del self._scratch["dirty"]
        self._scratch["dirty"] = buffer
        # Rows of the buffer: required (0..r), desired (r..2r) × skill credits, listed extras (2r..3r) × held.
        n_vac = ctx.product("vac:required").shape[0]
        both = np.concatenate([self.rows, self.rows + n_vac])
        stacked = _csr_rows(ctx.product("vac:required+desired"), both)
        extra = _csr_rows(ctx.product("vac:listed_extra"), self.rows)
        for first, left, right in ((0, stacked, "skills.T"), (2 * r, extra, "held.T")):
            product = (left @ ctx.product(right)).tocsr()
            starts = (np.arange(left.shape[0], dtype=np.int64) + first) * n
            buffer.ravel()[np.repeat(starts, np.diff(product.indptr)) + product.indices] = product.data
        self._dense = buffer
        return buffer

    def close(self) -> None:
        """Zero the rows :meth:`_products` wrote into the scratch buffer (a memset beats zeroing entries)."""
        if not self.candidates_query and self._dense is not None:
            self._dense[: 3 * self.rows.size].fill(0)
            self._scratch.pop("dirty", None)
            self._dense = None

    def competence_points(self, ri: IntArray, ci: IntArray) -> IntArray:
        """rint(competences score × weight) per pair, as ``_ClassTables.score_grid`` adds it."""
        engine = self.context.engine
        block = _CellPairs(self, ri, ci)
        comp = np.asarray(FACTORS["competences"].score(block, engine.algorithm.thresholds).score, np.float64)
        return np.rint(comp * engine._weights100["competences"]).astype(np.int32).astype(np.int64)


class _CellPairs(PairBlock):
    """Chosen cells of a block as an explicit pair layout for the competences factor."""

    def __init__(self, source: _PairSource, ri: IntArray, ci: IntArray) -> None:
        ctx = source.context
        self.candidates = ctx.cands
        self.vacancies = ctx.vacs
        self.c_single = self.v_single = False
        self.is_pairs = True
        q, t = source.rows[ri], source.targets[ci]
        self.c_rows, self.v_rows = (q, t) if source.candidates_query else (t, q)
        self._shape = (ri.size,)
        self._cache: dict[str, FloatArray] = {}
        self._source = source
        self._ri, self._ci = ri, ci
        self._sums: FloatArray | None = None
        self.transposed = {}

    def _credits(self) -> FloatArray:
        if self._sums is None:
            self._sums = self._source.credits(self._ri, self._ci)
        return self._sums

    def skill_credits(self, v_matrix: str, related_credit: float) -> FloatArray:
        if related_credit != dyadic(self._source.context.engine.algorithm.thresholds["related_credit"]):
            raise ValueError("the batch context was built for another related credit")
        return self._credits()[:, ("required", "desired").index(v_matrix)]

    def overlap(self, c_matrix: str, v_matrix: str) -> FloatArray:
        if (c_matrix, v_matrix) != ("held", "listed_extra"):
            raise NotImplementedError(f"{c_matrix}|{v_matrix}")
        return self._credits()[:, 2]

    def profile_overlap(self) -> FloatArray:
        hit = self._cache.get("profile")
        if hit is None:
            prof_ids = self.vacancies.array("profile")[self.v_rows]  # -1: none → the last (zero) row
            per = self._source.context.profile_counts(prof_ids, self.c_rows, grid=False)
            hit = self._cache["profile"] = per + self.overlap("held", "listed_extra")
        return hit

    def distance_km(self) -> FloatArray:
        raise NotImplementedError("the batch takes distances from the travel classes")


def _csr_rows(matrix: sp.csr_matrix, rows: IntArray) -> sp.csr_matrix:
    """``matrix[rows]`` for a few rows, without scipy's general fancy-indexing overhead."""
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1].astype(np.int64) - starts
    indptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    at = np.repeat(starts - indptr[:-1], lengths) + np.arange(int(indptr[-1]), dtype=np.int64)
    return sp.csr_matrix((matrix.data[at], matrix.indices[at], indptr), shape=(rows.size, matrix.shape[1]))


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
#: blocks this small keep them in the CPU cache (measured: 1.5 M cells per block ran at 5–6 M cells per
#: CPU-second, 100–300 k cells at 8–11 M), and bound a worker's scratch memory to a few MB.
GRID_CELLS = 150_000
#: Grid cells per block of the pruned path: only int32 sums and masks are per cell there (competences are
#: scored per pair, for the few cells that can reach the top). Measured at Twente scale: 600 k cells ran about
#: 10 % faster but doubled a worker's scratch peak (23 MiB instead of 13); 300 k stays near the full-grid
#: path's 11 MiB.
PRUNED_CELLS = 300_000


@dataclass
class _GridJob:
    """Scores blocks of query rows against their feasible targets; ``run`` returns the top-k per row."""

    context: BatchContext
    candidates_query: bool
    k: int
    _scratch: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

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
        if self.context.exact_pairs():
            block, cells = self._block, PRUNED_CELLS
        else:
            block, cells = self._block_grid, GRID_CELLS
        step = max(1, min(rows.size, cells // max(d.t_rows.size, 1)))
        parts = [block(ordered[i : i + step], d) for i in range(0, rows.size, step)]
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
        """Top-k of a block of query rows with bound-based pruning (the same results as :meth:`_block_grid`).

        Every factor but competences comes from the class tables, exact per cell (the base); competences add
        an integer in [0, comp_max]. Per row, the k-th best base is a lower bound of the k-th best score:
        competences are scored for the cells at or above it first, the k-th best of those exact scores is a
        higher bar, and then only cells whose base + comp_max reaches the bar are scored as well. Cells below
        cannot be in the top k (their score is below k others'). With candidates as queries, each cell's own
        bound (:class:`_CompetenceBound`) replaces comp_max in both cuts."""
        ctx = self.context
        d = direction
        empty = np.zeros(0, dtype=np.int64)
        none = np.zeros(rows.size, dtype=np.int64), empty, empty
        compatible = d.compatible[d.q_sig[rows]]  # query rows × target signatures
        within = d.within[d.q_tr[rows]]  # query rows × target travel classes
        # Regional blocking: targets that at least one row of the block can take (a superset of each row's).
        targets = d.t_rows[compatible.any(axis=0)[d.t_sig[d.t_rows]] & within.any(axis=0)[d.t_tr[d.t_rows]]]
        m = targets.size
        k = min(self.k, m)
        if m == 0 or k <= 0:
            return none
        # Base per cell: the score without competences where the pair can be in a result, else ≤ _OK_MIN.
        base = None
        for q_cls, t_cls, table in d.oriented:
            # The block's rows of the table first (few rows × the target classes), then each target's column:
            # a third of the time of gathering the cells from the flat table through a rows × targets index.
            part = np.take(table[q_cls[rows]], t_cls[targets], axis=1)
            if base is None:
                base = part
            else:
                base += part
        assert base is not None
        # Incompatible signatures: _BAD added like one more table (a masked copy took four times as long).
        base += np.take(np.where(compatible, np.int32(0), _BAD), d.t_sig[targets], axis=1)
        comp_max = ctx.engine._competences_max
        low = _kth_lower_bound(base, k)
        # Every cell that can be in a row's top k: base + comp_max ≥ low (the bar below is ≥ low).
        flat = np.flatnonzero(base >= np.maximum(low.astype(np.int64) - comp_max, _OK_MIN + 1)[:, None])
        if flat.size == 0:
            return none
        r0, c0 = np.divmod(flat, m)  # (faster than a two-dimensional nonzero)
        b0 = base.ravel()[flat]
        # Candidates as queries: each cell's own bound of the competence points from counts, then the same
        # cut with it, so fewer pairs are summed below. (Vacancies as queries take their sums from products
        # computed per block, where fewer pairs save little.)
        # Without it, every cell's bound is comp_max (the cut above).
        bound = ctx.competence_bound() if self.candidates_query else None
        if bound is None:
            ub0 = b0.astype(np.int64) + comp_max
        else:
            ub0 = b0.astype(np.int64) + bound.cells(rows[r0], targets[c0])
            keep = ub0 >= low[r0]
            r0, c0, b0, ub0 = r0[keep], c0[keep], b0[keep], ub0[keep]
        first = b0 >= low[r0]
        ri, ci, b1 = r0[first], c0[first], b0[first]
        pairs = _PairSource(ctx, self.candidates_query, rows, targets, self._scratch)
        n = np.int64(d.id_rank.size)
        t_rank = (n - 1 - d.id_rank[targets]).astype(np.int64)
        s1 = b1.astype(np.int64) + pairs.competence_points(ri, ci)
        # Per row: the k-th best exact score of these cells (rows with fewer than k of them have no bar, and
        # then no other feasible cell either).
        key1 = s1 * n + t_rank[ci]
        order = _row_order(ri, key1)
        r_sorted = ri[order]
        starts = np.searchsorted(r_sorted, np.arange(rows.size))
        ends = np.searchsorted(r_sorted, np.arange(rows.size), side="right")
        has_bar = ends - starts >= k
        bar = np.full(rows.size, np.iinfo(np.int64).max, dtype=np.int64)
        bar[has_bar] = s1[order[starts[has_bar] + k - 1]]
        # Other cells that can still reach the bar: base + bound ≥ bar, base below the first cut.
        rest = ~first  # not scored in the first round
        r2, c2, b2 = r0[rest], c0[rest], b0[rest]
        reach = ub0[rest] >= np.where(has_bar, bar, np.iinfo(np.int64).max)[r2]
        r2, c2, b2 = r2[reach], c2[reach], b2[reach]
        if r2.size:
            s2 = b2.astype(np.int64) + pairs.competence_points(r2, c2)
            ri = np.concatenate([ri, r2])
            ci = np.concatenate([ci, c2])
            key = np.concatenate([key1, s2 * n + t_rank[c2]])
            order = _row_order(ri, key)
            r_sorted = ri[order]
            starts = np.searchsorted(r_sorted, np.arange(rows.size))
        else:
            key = key1
        pairs.close()
        rank = np.arange(order.size) - starts[r_sorted]
        take = order[rank < k]
        counts = np.bincount(ri[take], minlength=rows.size).astype(np.int64)
        return counts, targets[ci[take]], (key[take] // n).astype(np.int64)

    def _block_grid(self, rows: IntArray, direction: _Direction) -> tuple[IntArray, IntArray, IntArray]:
        """Top-k of a block of query rows by scoring every cell of the grid (used where the pair sums of
        :class:`_PairSource` would not be exact)."""
        ctx = self.context
        cq = self.candidates_query
        d = direction
        empty = np.zeros(0, dtype=np.int64)
        compatible = d.compatible[d.q_sig[rows]]  # query rows × target signatures
        within = d.within[d.q_tr[rows]]  # query rows × target travel classes
        # Regional blocking: targets that at least one row of the block can take (a superset of each row's).
        targets = d.t_rows[compatible.any(axis=0)[d.t_sig[d.t_rows]] & within.any(axis=0)[d.t_tr[d.t_rows]]]
        if targets.size == 0:
            return np.zeros(rows.size, dtype=np.int64), empty, empty
        feasible = compatible[:, d.t_sig[targets]] & within[:, d.t_tr[targets]]
        block = GridBlock(ctx, cq, rows, targets)
        score = ctx.tables.score_grid(block)
        n = np.int64(direction.id_rank.size)
        # One key per cell: score first, then the target's id (lower id wins a tie); -1 = not feasible.
        key = np.where(
            feasible & (score > _OK_MIN),
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


def _compatible(
    c_reps: Sequence[EncodedCandidate], v_reps: Sequence[EncodedVacancy]
) -> npt.NDArray[np.bool_]:
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
    out = (
        (tgr[:, None] | ~garantie[None, :])
        & works_in[:, v_country]
        & ((v_lic[None, :] & ~c_lic[:, None]) == 0)
    )
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
_COMBINED: tuple[tuple[str, ...], ...] = (
    ("language", "education", "driving_licences"),
    ("hours", "certificates"),
)
_COMBINED_TABLE_MAX = 4_000_000
assert sorted(f for group in _COMBINED for f in group) == sorted(_FACTOR_KEYS)


def _combined_key(factors: tuple[str, ...]) -> Callable[[Any], Hashable]:
    keys = [_FACTOR_KEYS[f] for f in factors]
    return lambda record: tuple(k(record) for k in keys)


#: Class pairs scored at once while building a factor table (see :class:`_ClassTables`).
_TABLE_SLICE = 1 << 18


@dataclass
class _ClassTables:
    """Batch scoring by class: every factor except competences depends on a few fields of each side, so it is
    scored once per pair of classes (candidate class × vacancy class) with the factor's own code, and a pair
    looks its contribution up (≤ 10,000 hundredths), or _BAD where a hard requirement is unmet, so a grid
    cell with any unmet hard requirement sums to ≤ _OK_MIN."""

    engine: MatchEngine
    c_cls: list[npt.NDArray[np.int32]]  # per table: candidate class, per candidate row
    v_ids: list[npt.NDArray[np.int32]]  # per table: vacancy class, per vacancy row
    tables: list[npt.NDArray[np.int32]]  # per table: contribution + unmet · 2¹⁶, flat
    shapes: list[tuple[int, int]]  # per table: (candidate classes, vacancy classes); the first is travel

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
        c_classes: list[npt.NDArray[np.int32]] = []
        v_ids: list[npt.NDArray[np.int32]] = []
        tables: list[npt.NDArray[np.int32]] = []
        shapes: list[tuple[int, int]] = []
        for factors, (c_cls, c_reps), (v_cls, v_reps) in groups:
            n_c, n_v = c_reps.size, v_reps.size
            if n_c * n_v >= 2**31:
                raise ValueError("too many factor classes for one table")
            table = np.empty(n_c * n_v, dtype=np.int32)
            # Scored in slices of candidate classes: the factors' temporaries per pair stay bounded (whole
            # tables of ~2 M pairs cost a batch worker ~130 MiB more at its peak); every value is per pair.
            step = max(1, _TABLE_SLICE // max(n_v, 1))
            for lo in range(0, n_c, step):
                hi = min(n_c, lo + step)
                c_pos = np.repeat(np.arange(lo, hi, dtype=np.int64), n_v)
                v_pos = np.tile(np.arange(n_v, dtype=np.int64), hi - lo)
                block = PairBlock.pairs(cands, c_reps, c_pos, vacs, v_reps, v_pos)
                part = np.zeros(c_pos.size, dtype=np.int64)
                for factor in factors:
                    result = FACTORS[factor].score(block, thresholds)
                    s = np.asarray(result.score, dtype=np.float64)
                    part += np.rint(s * engine._weights100[factor]).astype(np.int64)
                    if result.unmet is not None:
                        part += np.asarray(result.unmet, dtype=np.int64) * _UNMET_SHIFT
                table[lo * n_v : hi * n_v] = np.where(part >= _UNMET_SHIFT, np.int64(_BAD), part)
            c_classes.append(c_cls.astype(np.int32))
            v_ids.append(v_cls.astype(np.int32))
            tables.append(table)
            shapes.append((n_c, n_v))
        return cls(engine, c_classes, v_ids, tables, shapes)

    def oriented(
        self, candidates_query: bool, within: npt.NDArray[np.bool_]
    ) -> list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int32]]]:
        """The tables as (query row → class, target row → class, table query class × target class) (see
        :class:`_Direction`); ``within`` (query travel class × target travel class) makes a copy of the travel
        table _BAD where a pair is out of reach. The other tables are shared views, not copies (a worker's
        memory is tight): for vacancies as queries, the transpose of the candidate-major table."""
        out = []
        for i, (c_cls, v_ids, table, (n_c, n_v)) in enumerate(
            zip(self.c_cls, self.v_ids, self.tables, self.shapes, strict=True)
        ):
            square = table.reshape(n_c, n_v)
            if not candidates_query:
                square = square.T
            if i == 0:  # travel: the same classes as the plan's travel classes
                if within.shape != square.shape:
                    raise ValueError("travel table and reach table disagree")
                square = np.where(within, square, _BAD).astype(np.int32)
            out.append((c_cls, v_ids, square) if candidates_query else (v_ids, c_cls, square))
        return out

    def score_grid(self, block: GridBlock) -> npt.NDArray[np.int32]:
        """Score (hundredths) of every cell of a grid, ≤ _OK_MIN where a hard requirement is unmet.

        For cells without unmet requirements this is the pair's score in ``MatchEngine.rank_vacancies``."""
        engine = self.engine
        comp = np.asarray(FACTORS["competences"].score(block, engine.algorithm.thresholds).score, np.float64)
        total = np.rint(comp * engine._weights100["competences"]).astype(np.int32)
        del comp
        c_axis = (slice(None), None) if block.candidates_query else (None, slice(None))
        v_axis = (None, slice(None)) if block.candidates_query else (slice(None), None)
        for c_cls, v_ids, table, (_n_c, n_v) in zip(
            self.c_cls, self.v_ids, self.tables, self.shapes, strict=True
        ):
            total += table[(c_cls[block.c_rows] * np.int32(n_v))[c_axis] + v_ids[block.v_rows][v_axis]]
        return total


_UNMET_SHIFT = np.int64(1) << np.int64(16)
#: A table entry that excludes the pair (unmet requirement, out of reach, incompatible signatures). A cell
#: sums at most 8 terms (7 factor tables when none are combined, and the signature compatibility), each
#: either in [0, 10,000] or _BAD: with one _BAD it is ≤ _BAD + 7 · 10,000 < _OK_MIN (and ≥ 8 · _BAD, within
#: int32); without, ≥ 0 > _OK_MIN.
_BAD = np.int32(-(2**24))
_OK_MIN = np.int32(-(2**23))


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
