"""In-memory, vectorised indexes of encoded profiles, and the pair blocks factors score.

An index stores each profile once in columnar form: sparse concept matrices (competences, occupation tokens,
certificates), coordinate, level and mask arrays. Upserts append rows and removals tombstone them; arrays are
re-materialised lazily (only the new rows are built, then concatenated) and compacted when a third of the
rows is dead, so a service can keep an index fresh without re-encoding everything.

A :class:`PairBlock` presents one candidate × many vacancies, one vacancy × many candidates, or a grid of
candidates × vacancies to the factors, with every per-profile array already shaped for numpy broadcasting.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.encoding import EncodedCandidate, EncodedVacancy, Encoder
from matching.types import CandidateFeatures, VacancyFeatures

__all__ = [
    "CLASS_NAMES",
    "CandidateIndex",
    "PairBlock",
    "QueryProfile",
    "VacancyIndex",
    "Vocabularies",
    "misc_class_key",
]

#: Row classes of an index and the factors scored through them: "travel" (location, reach, countries),
#: "occupation" (occupation tokens) and "misc" (hours, education, languages, licences, certificates; for
#: candidates also the home country, which the live country filter reads).
CLASS_NAMES: tuple[str, ...] = ("travel", "occupation", "misc")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Vocabulary:
    """Keys → dense column numbers; grows as new keys appear (thread-safe)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._lock = threading.Lock()

    def id(self, key: str) -> int:
        """Column of ``key``, allocating one if new."""
        found = self._ids.get(key)
        if found is not None:
            return found
        with self._lock:
            return self._ids.setdefault(key, len(self._ids))

    def get(self, key: str) -> int | None:
        """Column of ``key`` or ``None``."""
        return self._ids.get(key)

    def __len__(self) -> int:
        return len(self._ids)


class ProfileTable:
    """Occupation skill profiles (rows) over the skill vocabulary (columns), shared by an engine's indexes.

    A vacancy stores only the row number of its occupation's profile; candidate × profile overlaps are one
    sparse product per query, gathered per vacancy — far less memory than a profile copy per vacancy.
    """

    def __init__(self, skills: Vocabulary) -> None:
        self._skills = skills
        self._rows: list[npt.NDArray[np.int32]] = []
        self._ids: dict[frozenset[str], int] = {}
        self._matrix: sp.csr_matrix | None = None
        self._lock = threading.Lock()

    def id(self, profile: frozenset[str]) -> int:
        """Row of a profile (a set of skill keys), adding it if new."""
        found = self._ids.get(profile)
        if found is not None:
            return found
        cols = np.asarray(sorted(self._skills.id(k) for k in profile), dtype=np.int32)
        with self._lock:
            found = self._ids.get(profile)
            if found is None:
                found = len(self._rows)
                self._rows.append(cols)
                self._ids[profile] = found
                self._matrix = None
            return found

    def matrix(self, columns: int) -> sp.csr_matrix:
        """Profiles × skills indicator matrix with at least ``columns`` columns."""
        with self._lock:
            m = self._matrix
            if m is None or m.shape[0] != len(self._rows) or m.shape[1] < columns:
                indptr = np.zeros(len(self._rows) + 1, dtype=np.int64)
                indptr[1:] = np.cumsum([r.size for r in self._rows])
                indices = np.concatenate(self._rows) if self._rows else np.zeros(0, dtype=np.int32)
                width = max(columns, len(self._skills))
                m = sp.csr_matrix(
                    (np.ones(indices.size, dtype=np.float32), indices, indptr), shape=(len(self._rows), width)
                )
                self._matrix = m
            return m


@dataclass
class Vocabularies:
    """The column spaces both indexes of one engine share."""

    skills: Vocabulary
    occupations: Vocabulary
    certificates: Vocabulary
    languages: Vocabulary
    countries: Vocabulary
    sectors: Vocabulary
    profiles: ProfileTable

    @classmethod
    def create(cls) -> Vocabularies:
        """Fresh vocabularies; NL/DE and nl/de/en get the first columns."""
        skills = Vocabulary()
        vocab = cls(skills, *(Vocabulary() for _ in range(5)), ProfileTable(skills))
        for country in ("NL", "DE"):
            vocab.countries.id(country)
        for language in ("nl", "de", "en"):
            vocab.languages.id(language)
        return vocab


# Indicator matrices (concept sets: every stored value is 1) keep no data array of their own: their data is a
# view of one read-only buffer of ones, shared by all of them (scipy's products need a contiguous data array).
# A candidate's held, related and certificate concepts thus cost their column indices, plus one shared buffer.
_ONES_LOCK = threading.Lock()
_ONES: npt.NDArray[np.float32] = np.ones(0, dtype=np.float32)
_ONES_BUFFERS: list[weakref.ref[npt.NDArray[np.float32]]] = []


def _ones(n: int) -> npt.NDArray[np.float32]:
    """A read-only float32 array of ``n`` ones, viewing the shared buffer (grown when too short)."""
    global _ONES
    buffer = _ONES
    if buffer.size < n:
        with _ONES_LOCK:
            buffer = _ONES
            if buffer.size < n:
                buffer = np.ones(max(n, buffer.size + buffer.size // 16), dtype=np.float32)
                buffer.flags.writeable = False
                _ONES = buffer
                _ONES_BUFFERS[:] = [r for r in _ONES_BUFFERS if r() is not None]
                _ONES_BUFFERS.append(weakref.ref(buffer))
    return buffer[:n]


def _shared_ones_base(data: np.ndarray) -> npt.NDArray[np.float32] | None:
    """The shared buffer ``data`` is a view of, or None when it has its own memory."""
    base = data.base
    if base is None or base.flags.writeable:
        return None
    return base if any(r() is base for r in _ONES_BUFFERS) else None


def _share_ones(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """``matrix`` (just built, not shared yet), its data replaced by the shared ones if every value is 1."""
    data = matrix.data
    if data.size and _shared_ones_base(data) is None and bool(np.all(data == 1)):
        matrix.data = _ones(data.size)
    return matrix


def _csr_of(
    data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    """A CSR matrix over exactly these arrays (scipy copies a short view of a long array, such as the shared
    ones, on construction; the view is put back)."""
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    if matrix.data is not data and matrix.data.dtype == data.dtype:
        matrix.data = data
    return matrix


def _columns_of(keys: list[str], vocab: Vocabulary) -> npt.NDArray[np.int64]:
    """Column of every key (new keys get columns in order of first appearance)."""
    get = vocab._ids.get
    cols = list(map(get, keys))
    if None in cols:
        known = vocab._ids
        for key in dict.fromkeys(keys):  # distinct keys in order of first appearance
            if key not in known:
                vocab.id(key)
        cols = list(map(get, keys))
    return np.fromiter(cols, dtype=np.int64, count=len(cols))


def _csr(rows: Sequence[Mapping[str, float] | Iterable[str]], vocab: Vocabulary) -> sp.csr_matrix:
    """Rows of concept sets (value 1) or concept → value mappings as a CSR matrix over ``vocab``'s columns,
    column indices sorted within each row. Built from flat lists in one pass (no Python per entry)."""
    n = len(rows)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n)
    keys = list(chain.from_iterable(rows))  # a mapping row contributes its keys
    cols = _columns_of(keys, vocab)
    row_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
    # One sort by (row, column): rows stay in place, columns ascend within each row. The keys are already
    # sorted by row, which the stable sort (a merge of runs) exploits; equal keys (a repeated concept in a
    # row of plain keys) carry equal values, so the arrays do not depend on the sort's kind.
    order = np.argsort(row_of * (len(vocab) + 1) + cols, kind="stable")
    if any(issubclass(kind, Mapping) for kind in {type(row) for row in rows}):
        values = chain.from_iterable(
            row.values() if isinstance(row, Mapping) else repeat(1.0, len(row))  # type: ignore[arg-type]
            for row in rows
        )
        data = np.fromiter(values, dtype=np.float64, count=len(keys))[order].astype(np.float32)
    else:
        data = _ones(len(keys))
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=indptr[1:])
    # float32 holds the dyadic credits (multiples of 1/1024, small sums) exactly, at half the memory.
    return _csr_of(data, cols[order].astype(np.int32), indptr, (n, len(vocab)))


def _widen(matrix: sp.csr_matrix, columns: int) -> sp.csr_matrix:
    """The matrix with at least ``columns`` columns. Columns beyond the old width hold nothing, so the new
    matrix shares the old one's arrays instead of copying them (stored arrays are never modified in place)."""
    if matrix.shape[1] >= columns:
        return matrix
    return _csr_of(matrix.data, matrix.indices, matrix.indptr, (matrix.shape[0], columns))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many small objects are made (a bulk encode): its passes over
    the growing heap cost a quarter of a build, and encoded records form no reference cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _row(matrix: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of one CSR row, without scipy's (slow) row indexing."""
    start, stop = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]


def _dense(indices: np.ndarray, data: np.ndarray, width: int) -> FloatArray:
    """A sparse row as a dense vector of ``width`` entries (entries beyond it dropped).

    float32 like the matrices, so scipy multiplies without upcasting (copying) the big matrix; sums of the
    dyadic credits are exact in float32 and are widened to float64 afterwards.
    """
    dense = np.zeros(width, dtype=np.float32)
    keep = indices < width
    dense[indices[keep]] = data[keep]
    return dense


def _row_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[IntArray, np.ndarray, np.ndarray]:
    """The entries of some rows of a CSR matrix: (position in ``rows``, column, value) per entry."""
    indptr = matrix.indptr
    starts = indptr[rows].astype(np.int64)
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    at = np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
    segment = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    return segment, matrix.indices[at], matrix.data[at]


def _rows_product(
    matrix: sp.csr_matrix,
    rows: np.ndarray,
    dense: np.ndarray,
    entries: dict[str, tuple[IntArray, np.ndarray, np.ndarray]] | None = None,
    name: str = "",
) -> FloatArray:
    """``(matrix @ dense)[rows]`` in float64, reading only the entries of those rows (``dense`` as wide as
    the matrix). The values are dyadic, so these sums equal the full product's exactly. ``entries`` (per
    block) keeps the gathered entries of matrix ``name`` for the next product over the same rows."""
    found = None if entries is None else entries.get(name)
    if found is None:
        found = _row_entries(matrix, rows)
        if entries is not None:
            entries[name] = found
    segment, columns, values = found
    if segment.size == 0:
        return np.zeros(len(rows), dtype=np.float64)
    return np.bincount(segment, weights=values * dense[columns], minlength=len(rows))


def _column_sums(
    columns: tuple[IntArray, npt.NDArray[np.int32], npt.NDArray[np.float32], int],
    cols: np.ndarray,
    weights: FloatArray,
) -> FloatArray:
    """Per index row Σ weights[j] · M[row, cols[j]], from a column copy of M (``_Index.columns``).

    Reads only the entries in the given columns (a query's few concepts), not every row's. Columns beyond
    the copy's width hold nothing. Values and weights are dyadic, so the float64 sums equal a row-wise
    product's exactly, whatever the order.
    """
    indptr, rows, values, n_rows = columns
    cols = cols.astype(np.int64)
    keep = cols < indptr.size - 1
    cols, weights = cols[keep], weights[keep]
    starts = indptr[cols]
    lengths = indptr[cols + 1] - starts
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    at = np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
    return np.bincount(rows[at], weights=np.repeat(weights, lengths) * values[at], minlength=n_rows)


def _few_rows(rows: object, n: int) -> bool:
    """Whether ``rows`` (a block's row selection) is an array of at most a tenth of ``n`` rows: then a
    product over just those rows beats the full sparse product (measured: one C pass over all entries costs
    about as much as gathering the entries of n/8 rows)."""
    return isinstance(rows, np.ndarray) and rows.ndim == 1 and rows.size * 10 <= n


def _is_all_rows(rows: np.ndarray, n: int) -> bool:
    """Whether ``rows`` is 0, 1, …, n−1 (then a matrix needs no row gather)."""
    return rows.size == n and bool(np.array_equal(rows, np.arange(n)))


def _mask(keys: Iterable[str], vocab: Vocabulary) -> int:
    out = 0
    for key in keys:
        out |= 1 << vocab.id(key)
    return out


def misc_class_key(record: EncodedCandidate | EncodedVacancy) -> tuple[Hashable, ...]:
    """A record's key in the "misc" row class: hours_min, hours_max, education, licences, certificates,
    languages, and for a candidate also the home country. The same function gives a query profile's key,
    whose parts the live path memoises misc factor scores by (``engine._MISC_KEY_PARTS``)."""
    key = (
        record.hours_min,
        record.hours_max,
        record.education,
        record.licences,
        record.certificates,
        tuple(sorted(record.languages.items())),
    )
    if isinstance(record, EncodedCandidate):
        return (*key, record.country)
    return key


R = TypeVar("R", EncodedCandidate, EncodedVacancy)


class _Index(Generic[R]):
    """Shared machinery: rows, tombstones, lazy materialisation, compaction."""

    _array_names: tuple[str, ...] = ()
    _matrix_names: tuple[str, ...] = ()

    def __init__(self, vocab: Vocabularies, encoder: Encoder) -> None:
        self.vocab = vocab
        self.encoder = encoder
        self._records: list[R | None] = []
        self._row_of: dict[str, int] = {}
        self._built = 0  # rows [0, _built) are materialised
        self._alive = np.zeros(0, dtype=bool)
        # Nothing to build or compact since the last materialise (every live query materialises, several
        # times: this spares them counting the dead rows).
        self._settled = False
        self._matrix_vocabs: list[tuple[str, Vocabulary]] | None = None
        self._arrays: dict[str, np.ndarray] = {}
        self._matrices: dict[str, sp.csr_matrix] = {}
        self._ids = np.zeros(0, dtype=object)
        self._lock = threading.RLock()
        # Row classes (see _class_key): rows of one class have identical arrays for the factors scored
        # through that class, so a query scores each class once and gathers (see MatchEngine, live path).
        self._class_of: dict[str, dict[Hashable, int]] = {name: {} for name in CLASS_NAMES}
        self._class_reps: dict[str, list[int]] = {name: [] for name in CLASS_NAMES}
        self._class_ids: dict[str, npt.NDArray[np.int32]] = {
            name: np.zeros(0, dtype=np.int32) for name in CLASS_NAMES
        }
        self._class_cache: dict[str, tuple[int, IntArray]] = {}
        self._columns: dict[str, tuple[sp.csr_matrix, tuple[IntArray, np.ndarray, np.ndarray, int]]] = {}

    # -- mutation ---------------------------------------------------------------------------------
    def _encode(self, features: object) -> R:
        raise NotImplementedError

    def _class_key(self, name: str, record: R) -> Hashable:
        """Everything of a record that the arrays of the factors scored through class ``name`` hold."""
        raise NotImplementedError

    def _add_classes(self, rows: Sequence[R], offset: int) -> None:
        for name in CLASS_NAMES:
            of, reps = self._class_of[name], self._class_reps[name]
            ids = np.empty(len(rows), dtype=np.int32)
            for i, record in enumerate(rows):
                key = self._class_key(name, record)
                found = of.get(key)
                if found is None:
                    found = of[key] = len(reps)
                    reps.append(offset + i)
                ids[i] = found
            old = self._class_ids[name]
            self._class_ids[name] = ids if old.size == 0 else np.concatenate([old, ids])

    def class_keys(self, name: str) -> list[Hashable]:
        """The key of every class of ``name``, by class number."""
        self.materialise()
        with self._lock:
            return list(self._class_of[name])

    def classes(self, name: str) -> tuple[npt.NDArray[np.int32], IntArray]:
        """Class number per materialised row and one representative row per class (see ``CLASS_NAMES``)."""
        self.materialise()
        with self._lock:
            reps = self._class_reps[name]
            cached = self._class_cache.get(name)
            if cached is None or cached[0] != len(reps):
                cached = (len(reps), np.asarray(reps, dtype=np.int64))
                self._class_cache[name] = cached
            return self._class_ids[name], cached[1]

    def upsert(self, features: Iterable[CandidateFeatures] | Iterable[VacancyFeatures]) -> None:
        """Add or replace profiles by id: encodes them, tombstones replaced rows and appends new ones."""
        batch = features if isinstance(features, list) else list(features)
        with collector_paused():
            self._prepare(batch)
            records = [self._encode(f) for f in batch]
        self.upsert_encoded(records)

    def _prepare(self, features: list[CandidateFeatures] | list[VacancyFeatures]) -> None:
        """Bulk look-ups ahead of encoding ``features`` one by one (memos only; see Encoder.prepare_*)."""

    def upsert_encoded(self, records: Iterable[R]) -> None:
        """Add or replace already encoded profiles."""
        with self._lock:
            for record in records:
                old = self._row_of.get(record.id)
                if old is not None:
                    self._records[old] = None
                    if old < self._built:
                        self._alive[old] = False
                self._row_of[record.id] = len(self._records)
                self._records.append(record)
                self._settled = False

    def remove(self, ids: Iterable[str]) -> int:
        """Remove profiles by id; returns how many were present."""
        removed = 0
        with self._lock:
            for id_ in ids:
                row = self._row_of.pop(id_, None)
                if row is None:
                    continue
                removed += 1
                self._records[row] = None
                self._settled = False
                if row < self._built:
                    self._alive[row] = False
        return removed

    # -- reading ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, id_: object) -> bool:
        return id_ in self._row_of

    def ids(self) -> list[str]:
        """Ids of all live profiles, sorted."""
        return sorted(self._row_of)

    def record(self, id_: str) -> R:
        """The encoded profile with this id (KeyError if absent)."""
        return self._records[self._row_of[id_]]  # type: ignore[return-value]

    def record_at(self, row: int) -> R:
        """The encoded profile in a materialised row."""
        record = self._records[row]
        assert record is not None
        return record

    def row(self, id_: str) -> int:
        """Materialised row of an id (materialises first)."""
        self.materialise()
        return self._row_of[id_]

    def records_by_row(self) -> list[R | None]:
        """Encoded profile per materialised row (None for removed rows)."""
        self.materialise()
        return self._records[: self._built]

    def __iter__(self) -> Iterator[R]:
        for record in self._records:
            if record is not None:
                yield record

    @property
    def alive(self) -> npt.NDArray[np.bool_]:
        """Boolean mask of live rows (materialised)."""
        self.materialise()
        return self._alive

    @property
    def row_ids(self) -> npt.NDArray[np.object_]:
        """Id per materialised row (removed rows keep their old id; check :attr:`alive`)."""
        self.materialise()
        return self._ids

    def array(self, name: str) -> np.ndarray:
        """A per-row array by name."""
        return self._arrays[name]

    def matrix(self, name: str) -> sp.csr_matrix:
        """A per-row sparse concept matrix by name."""
        return self._matrices[name]

    def columns(
        self, name: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32], int]:
        """Column-major copy of a matrix (indptr, row numbers, values, rows), built on first use per build.

        A query with a few concepts then touches only their columns instead of the whole matrix.
        """
        matrix = self._matrices[name]
        cached = self._columns.get(name)
        if cached is not None and cached[0] is matrix:
            return cached[1]
        with self._lock:
            csc = matrix.tocsc()
            csc.sort_indices()
            value = (
                csc.indptr.astype(np.int64),
                csc.indices.astype(np.int32),
                csc.data.astype(np.float32),
                int(matrix.shape[0]),
            )
            self._columns[name] = (matrix, value)
            return value

    def nbytes(self) -> int:
        """Memory held by the materialised arrays and matrices (not the Python records)."""
        self.materialise()
        total = self._alive.nbytes + sum(a.nbytes for a in self._arrays.values())
        total += sum(a.nbytes for a in self._class_ids.values())
        for name, (matrix, (indptr, rows, values, _n)) in list(self._columns.items()):
            if matrix is self._matrices.get(name):  # column copies built for live queries count too
                total += indptr.nbytes + rows.nbytes + values.nbytes
        shared = 0
        for m in self._matrices.values():
            total += m.indices.nbytes + m.indptr.nbytes
            if _shared_ones_base(m.data) is None:
                total += m.data.nbytes
            else:  # views of the shared ones: the index needs as many ones as its largest such matrix
                shared = max(shared, m.data.nbytes)
        return int(total + shared)

    # -- materialisation --------------------------------------------------------------------------
    def materialise(self) -> None:
        """Build arrays for rows added since the last call; compact when many rows are dead."""
        with self._lock:
            if self._settled:
                self._widen_all()
                return
            n = len(self._records)
            if self._built == n and (self._alive.size - int(self._alive.sum())) * 3 <= max(
                self._alive.size, 1
            ):
                self._widen_all()
                self._settled = True
                return
            if self._built < n:
                new = self._records[self._built : n]
                live_new = [r for r in new if r is not None]
                # Removed-before-built rows still need a placeholder row to keep row numbers aligned.
                placeholder = live_new[0] if live_new else None
                rows = [r if r is not None else placeholder for r in new]
                if placeholder is None:
                    rows = []
                with collector_paused():
                    arrays, matrices = self._encode_rows(rows) if rows else ({}, {})
                alive_new = np.array([r is not None for r in new], dtype=bool)
                ids_new = np.array([r.id if r is not None else "" for r in new], dtype=object)
                if rows:
                    for name in self._array_names:
                        old = self._arrays.get(name)
                        self._arrays[name] = (
                            arrays[name]
                            if old is None or old.shape[0] == 0
                            else np.concatenate([old, arrays[name]])
                        )
                    for name in self._matrix_names:
                        old_m = self._matrices.get(name)
                        new_m = matrices[name]
                        if old_m is None or old_m.shape[0] == 0:
                            self._matrices[name] = new_m
                        else:
                            cols = max(old_m.shape[1], new_m.shape[1])
                            self._matrices[name] = _share_ones(
                                sp.vstack([_widen(old_m, cols), _widen(new_m, cols)], format="csr")
                            )
                    with collector_paused():
                        self._add_classes(rows, self._built)
                    self._alive = np.concatenate([self._alive, alive_new])
                    self._ids = np.concatenate([self._ids, ids_new])
                    self._built = n
                else:
                    # Everything added since the last build was removed again: drop those records.
                    del self._records[self._built :]
            if (self._alive.size - int(self._alive.sum())) * 3 > max(self._alive.size, 1):
                self._compact()
            self._widen_all()
            self._settled = self._built == len(self._records)

    def _widen_all(self) -> None:
        """Widen matrices to their vocabularies (which the other index of the engine may have grown)."""
        vocabs = self._matrix_vocabs
        if vocabs is None:
            vocabs = self._matrix_vocabs = [(name, self._vocab_of(name)) for name in self._matrix_names]
        for name, vocab in vocabs:
            m = self._matrices.get(name)
            if m is not None:
                cols = len(vocab)
                if m.shape[1] < cols:
                    self._matrices[name] = _widen(m, cols)

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive)
        for name in self._array_names:
            self._arrays[name] = self._arrays[name][keep]
        for name in self._matrix_names:
            self._matrices[name] = _share_ones(self._matrices[name][keep])
        self._ids = self._ids[keep]
        self._alive = np.ones(keep.size, dtype=bool)
        records = [self._records[i] for i in keep.tolist()]
        self._records = records + self._records[self._built :]
        self._built = keep.size
        self._row_of = {r.id: i for i, r in enumerate(self._records) if r is not None}
        for name in CLASS_NAMES:
            self._class_of[name] = {}
            self._class_reps[name] = []
            self._class_ids[name] = np.zeros(0, dtype=np.int32)
        self._class_cache = {}
        self._add_classes(records, 0)

    def _vocab_of(self, matrix_name: str) -> Vocabulary:
        raise NotImplementedError

    def _encode_rows(self, rows: list[R]) -> tuple[dict[str, np.ndarray], dict[str, sp.csr_matrix]]:
        raise NotImplementedError

    def _levels(self, rows: Sequence[Mapping[str, int]]) -> np.ndarray:
        for row in rows:
            for lang in row:
                self.vocab.languages.id(lang)
        out = np.zeros((len(rows), len(self.vocab.languages)), dtype=np.int8)
        for i, row in enumerate(rows):
            for lang, level in row.items():
                out[i, self.vocab.languages.id(lang)] = level
        return out

    def levels(self, columns: int) -> np.ndarray:
        """Language level matrix padded to ``columns`` languages."""
        lv = self._arrays["languages"]
        if lv.shape[1] >= columns:
            return lv
        return np.pad(lv, ((0, 0), (0, columns - lv.shape[1])))


class CandidateIndex(_Index[EncodedCandidate]):
    """Encoded candidates in columnar form (build with ``MatchEngine.build_candidate_index``)."""

    _array_names = (
        "xyz",
        "limit_km",
        "hours_min",
        "hours_max",
        "languages",
        "education",
        "licences",
        "countries",
        "sectors",
        "target_group_register",
    )
    _matrix_names = ("held", "related", "occupations", "certificates")

    def __init__(self, vocab: Vocabularies, encoder: Encoder) -> None:
        super().__init__(vocab, encoder)
        self.max_travel_km = float(encoder.algorithm.thresholds["max_travel_km"])

    def _encode(self, features: object) -> EncodedCandidate:
        assert isinstance(features, CandidateFeatures)
        return self.encoder.candidate(features)

    def _prepare(self, features: list[CandidateFeatures] | list[VacancyFeatures]) -> None:
        self.encoder.prepare_candidates(features)  # type: ignore[arg-type]

    def _class_key(self, name: str, record: EncodedCandidate) -> Hashable:
        if name == "travel":
            return (record.xyz, float(min(record.max_travel_km, self.max_travel_km)), record.work_countries)
        if name == "occupation":
            return record.occupation_credits
        return misc_class_key(record)

    def _vocab_of(self, matrix_name: str) -> Vocabulary:
        return {
            "related": self.vocab.skills,
            "held": self.vocab.skills,
            "occupations": self.vocab.occupations,
        }.get(matrix_name, self.vocab.certificates)

    def _encode_rows(
        self, rows: list[EncodedCandidate]
    ) -> tuple[dict[str, np.ndarray], dict[str, sp.csr_matrix]]:
        v = self.vocab
        matrices = {
            "held": _csr([r.skill_keys for r in rows], v.skills),
            "related": _csr([r.related_only for r in rows], v.skills),
            "occupations": _csr([r.occupation_tokens for r in rows], v.occupations),
            "certificates": _csr([r.certificates for r in rows], v.certificates),
        }
        arrays = {
            "xyz": np.array([r.xyz for r in rows], dtype=np.float32).reshape(len(rows), 3),
            "limit_km": np.array(
                [float(min(r.max_travel_km, self.max_travel_km)) for r in rows], dtype=np.float32
            ),
            # Narrow dtypes keep the index small: hours 0–48, 11 licence bits, a handful of countries.
            "hours_min": np.array([r.hours_min for r in rows], dtype=np.int8),
            "hours_max": np.array([r.hours_max for r in rows], dtype=np.int8),
            "languages": self._levels([r.languages for r in rows]),
            "education": np.array([-1 if r.education is None else r.education for r in rows], dtype=np.int8),
            "licences": np.array([r.licences for r in rows], dtype=np.int16),
            "countries": np.array([_mask(r.work_countries, v.countries) for r in rows], dtype=np.int16),
            "sectors": np.array([_mask(r.sectors, v.sectors) for r in rows], dtype=np.int16),
            "target_group_register": np.array([r.target_group_register for r in rows], dtype=bool),
        }
        return arrays, matrices


class VacancyIndex(_Index[EncodedVacancy]):
    """Encoded vacancies in columnar form (build with ``MatchEngine.build_vacancy_index``)."""

    _array_names = (
        "xyz",
        "hours_min",
        "hours_max",
        "languages",
        "education",
        "licences",
        "country",
        "sector",
        "garantiebaan",
        "n_required",
        "n_desired",
        "inferred",
        "n_certificates",
        "profile",
    )
    _matrix_names = ("required", "desired", "listed_extra", "occupations", "certificates")
    _language_columns: tuple[np.ndarray, list[int]] | None = None

    def _encode(self, features: object) -> EncodedVacancy:
        assert isinstance(features, VacancyFeatures)
        return self.encoder.vacancy(features)

    def _prepare(self, features: list[CandidateFeatures] | list[VacancyFeatures]) -> None:
        self.encoder.prepare_vacancies(features)  # type: ignore[arg-type]

    def _class_key(self, name: str, record: EncodedVacancy) -> Hashable:
        if name == "travel":
            return (record.xyz, record.country)
        if name == "occupation":
            return record.occupation_tokens
        return misc_class_key(record)

    def required_language_columns(self) -> list[int]:
        """Language columns any materialised vacancy requires (cached per materialisation)."""
        levels = self._arrays.get("languages")
        if levels is None:
            return []
        cached = self._language_columns
        if cached is not None and cached[0] is levels:
            return cached[1]
        columns = [int(c) for c in np.flatnonzero(levels.any(axis=0))]
        self._language_columns = (levels, columns)
        return columns

    def _vocab_of(self, matrix_name: str) -> Vocabulary:
        if matrix_name in ("required", "desired", "listed_extra"):
            return self.vocab.skills
        if matrix_name == "occupations":
            return self.vocab.occupations
        return self.vocab.certificates

    def _encode_rows(
        self, rows: list[EncodedVacancy]
    ) -> tuple[dict[str, np.ndarray], dict[str, sp.csr_matrix]]:
        v = self.vocab
        matrices = {
            "required": _csr([r.required for r in rows], v.skills),
            "desired": _csr([r.desired for r in rows], v.skills),
            "listed_extra": _csr([r.listed_extra for r in rows], v.skills),
            "occupations": _csr([r.occupation_tokens for r in rows], v.occupations),
            "certificates": _csr([r.certificates for r in rows], v.certificates),
        }
        arrays = {
            "xyz": np.array([r.xyz for r in rows], dtype=np.float32).reshape(len(rows), 3),
            "hours_min": np.array([r.hours_min for r in rows], dtype=np.int16),
            "hours_max": np.array([r.hours_max for r in rows], dtype=np.int16),
            "languages": self._levels([r.languages for r in rows]),
            "education": np.array([-1 if r.education is None else r.education for r in rows], dtype=np.int8),
            "licences": np.array([r.licences for r in rows], dtype=np.int16),
            "country": np.array([1 << v.countries.id(r.country) for r in rows], dtype=np.int64),
            "sector": np.array([1 << v.sectors.id(r.sector) for r in rows], dtype=np.int64),
            "garantiebaan": np.array([r.garantiebaan for r in rows], dtype=bool),
            "n_required": np.array([len(r.required) for r in rows], dtype=np.float64),
            "n_desired": np.array([len(r.desired) for r in rows], dtype=np.float64),
            "inferred": np.array([r.inferred for r in rows], dtype=bool),
            "n_certificates": np.array([len(r.certificates) for r in rows], dtype=np.int16),
            "profile": np.array(
                [-1 if r.profile is None else v.profiles.id(r.profile) for r in rows], dtype=np.int64
            ),
        }
        return arrays, matrices


class _OneRow:
    """One sparse row (the parts of a CSR matrix PairBlock reads: indptr, indices, data, shape)."""

    __slots__ = ("data", "indices", "indptr", "shape")

    def __init__(self, indices: npt.NDArray[np.int32], data: npt.NDArray[np.float32]) -> None:
        self.indices = indices
        self.data = data
        self.indptr = np.array([0, indices.size], dtype=np.int64)
        self.shape = (1, int(indices.max()) + 1 if indices.size else 0)


# Concepts a query holds that no index has a column for get columns from here on: they count (a candidate's
# number of competences) but can meet nothing, and they never grow the shared vocabulary (which would make
# every index copy its matrices to widen them on the next query).
_VIRTUAL_COLUMN = 1 << 30


def _one_row(items: Mapping[str, float] | Iterable[str], vocab: Vocabulary) -> _OneRow:
    """A query's concepts (a set: values 1, or concept → value) as one sparse row over ``vocab``'s columns;
    unknown concepts get virtual columns in order of iteration. One C-level pass per list (a candidate's
    related concepts run into the hundreds, and every live query builds four such rows)."""
    keys = list(items)
    columns = list(map(vocab._ids.get, keys))
    if None in columns:
        virtual = _VIRTUAL_COLUMN
        for i, column in enumerate(columns):
            if column is None:
                columns[i] = virtual
                virtual += 1
    n = len(keys)
    if isinstance(items, Mapping):
        data = np.fromiter(items.values(), dtype=np.float32, count=n)
    else:
        data = np.ones(n, dtype=np.float32)
    return _OneRow(np.fromiter(columns, dtype=np.int32, count=n), data)


def _known_mask(keys: Iterable[str], vocab: Vocabulary) -> int:
    out = 0
    for key in keys:
        bit = vocab.get(key)
        if bit is not None:
            out |= 1 << bit
    return out


class QueryProfile:
    """One encoded profile in the shape of a one-row index, built straight from the record (no index).

    Arrays have the dtypes of the index arrays, so every factor computes with exactly the same numbers as
    when the profile sits in an index; unknown concepts get virtual columns instead of vocabulary entries.
    """

    def __init__(
        self, arrays: dict[str, np.ndarray], matrices: dict[str, _OneRow], vocab: Vocabularies
    ) -> None:
        self._arrays = arrays
        self._matrices = matrices
        self.vocab = vocab

    @classmethod
    def candidate(
        cls, record: EncodedCandidate, vocab: Vocabularies, *, max_travel_km: float
    ) -> QueryProfile:
        """A candidate as the single row of a block against a vacancy index."""
        languages = np.zeros((1, len(vocab.languages)), dtype=np.int8)
        for lang, level in record.languages.items():
            column = vocab.languages.get(lang)
            if column is not None and column < languages.shape[1]:
                languages[0, column] = level
        arrays = {
            "xyz": np.array([record.xyz], dtype=np.float32),
            "limit_km": np.array([float(min(record.max_travel_km, max_travel_km))], dtype=np.float32),
            "hours_min": np.array([record.hours_min], dtype=np.int8),
            "hours_max": np.array([record.hours_max], dtype=np.int8),
            "languages": languages,
            "education": np.array([-1 if record.education is None else record.education], dtype=np.int8),
            "licences": np.array([record.licences], dtype=np.int16),
            "countries": np.array([_known_mask(record.work_countries, vocab.countries)], dtype=np.int16),
            "sectors": np.array([_known_mask(record.sectors, vocab.sectors)], dtype=np.int16),
            "target_group_register": np.array([record.target_group_register], dtype=bool),
        }
        matrices = {
            "held": _one_row(record.skill_keys, vocab.skills),
            "related": _one_row(record.related_only, vocab.skills),
            "occupations": _one_row(record.occupation_tokens, vocab.occupations),
            "certificates": _one_row(record.certificates, vocab.certificates),
        }
        return cls(arrays, matrices, vocab)

    @classmethod
    def vacancy(cls, record: EncodedVacancy, vocab: Vocabularies) -> QueryProfile:
        """A vacancy as the single row of a block against a candidate index."""
        for lang in record.languages:  # a required language needs a column (candidates simply lack it)
            vocab.languages.id(lang)
        languages = np.zeros((1, len(vocab.languages)), dtype=np.int8)
        for lang, level in record.languages.items():
            languages[0, vocab.languages.id(lang)] = level
        arrays = {
            "xyz": np.array([record.xyz], dtype=np.float32),
            "hours_min": np.array([record.hours_min], dtype=np.int16),
            "hours_max": np.array([record.hours_max], dtype=np.int16),
            "languages": languages,
            "education": np.array([-1 if record.education is None else record.education], dtype=np.int8),
            "licences": np.array([record.licences], dtype=np.int16),
            "country": np.array([1 << vocab.countries.id(record.country)], dtype=np.int64),
            "sector": np.array([1 << vocab.sectors.id(record.sector)], dtype=np.int64),
            "garantiebaan": np.array([record.garantiebaan], dtype=bool),
            "n_required": np.array([len(record.required)], dtype=np.float64),
            "n_desired": np.array([len(record.desired)], dtype=np.float64),
            "inferred": np.array([record.inferred], dtype=bool),
            "n_certificates": np.array([len(record.certificates)], dtype=np.int16),
            "profile": np.array(
                [-1 if record.profile is None else vocab.profiles.id(record.profile)], dtype=np.int64
            ),
        }
        matrices = {
            "required": _one_row(record.required, vocab.skills),
            "desired": _one_row(record.desired, vocab.skills),
            "listed_extra": _one_row(record.listed_extra, vocab.skills),
            "occupations": _one_row(record.occupation_tokens, vocab.occupations),
            "certificates": _one_row(record.certificates, vocab.certificates),
        }
        return cls(arrays, matrices, vocab)

    def array(self, name: str) -> np.ndarray:
        """A one-row array by name."""
        return self._arrays[name]

    def matrix(self, name: str) -> _OneRow:
        """A one-row sparse concept row by name."""
        return self._matrices[name]

    def required_language_columns(self) -> list[int]:
        """Language columns this (vacancy) profile requires."""
        return [int(c) for c in np.flatnonzero(self._arrays["languages"][0])]


class PairBlock:
    """Candidate rows × vacancy rows, arranged so that per-profile arrays line up pair by pair.

    Layouts: one candidate (``c_rows`` an int) against vacancy rows (an array, or ``None`` for every
    materialised row) → pair arrays of shape ``(m,)``; one vacancy against candidate rows → ``(m,)``; or an
    explicit list of pairs (:meth:`pairs`, used by the batch after hard filtering) → ``(p,)``. Factors only
    use :meth:`c`, :meth:`v`, :meth:`c_levels`, :meth:`v_levels`, :meth:`overlap`, :meth:`profile_overlap` and
    :meth:`distance_km`, so one implementation serves all layouts, and all layouts give bit-identical scores.
    """

    #: The one-profile block over every index row this block was narrowed from (see :meth:`narrowed`).
    #: A class attribute, so subclasses that set their own state without ``__init__`` have none.
    _parent: PairBlock | None = None

    def __init__(
        self,
        candidates: CandidateIndex,
        c_rows: int | IntArray | None,
        vacancies: VacancyIndex,
        v_rows: int | IntArray | None,
    ) -> None:
        self.candidates = candidates
        self.vacancies = vacancies
        self.c_single = isinstance(c_rows, (int, np.integer))
        self.v_single = isinstance(v_rows, (int, np.integer))
        if self.c_single == self.v_single:
            raise ValueError("use PairBlock.pairs for many-to-many; exactly one side must be a single row")
        # None means "every materialised row": plain slices avoid copying every array on every query.
        self.c_rows: int | IntArray | slice = slice(None) if c_rows is None else c_rows
        self.v_rows: int | IntArray | slice = slice(None) if v_rows is None else v_rows
        self.is_pairs = False
        self._c_unique: IntArray | None = None
        self._v_unique: IntArray | None = None
        self._c_pos: IntArray | None = None
        self._v_pos: IntArray | None = None
        self._distance: FloatArray | None = None
        self._cache: dict[str, FloatArray] = {}
        # Single-profile layouts with a few index rows: gathered matrix entries of those rows (_rows_product).
        self._entries: dict[str, tuple[IntArray, np.ndarray, np.ndarray]] = {}
        # Optional (set by the batch): candidate matrices transposed (concept × candidate, CSR) over all
        # candidate rows — "held" and "skills" (held + related_credit · related).
        self.transposed: dict[str, sp.csr_matrix] = {}
        if self.c_single:
            n = len(vacancies.alive) if v_rows is None else len(v_rows)  # type: ignore[arg-type]
        else:
            n = len(candidates.alive) if c_rows is None else len(c_rows)  # type: ignore[arg-type]
        self._shape = (n,)

    @classmethod
    def pairs(
        cls,
        candidates: CandidateIndex,
        c_unique: IntArray,
        c_pos: IntArray,
        vacancies: VacancyIndex,
        v_unique: IntArray,
        v_pos: IntArray,
    ) -> PairBlock:
        """Explicit pairs ``(c_unique[c_pos[i]], v_unique[v_pos[i]])``; unique rows bound the sparse work."""
        block = cls.__new__(cls)
        block.candidates = candidates
        block.vacancies = vacancies
        block.c_single = block.v_single = False
        block.is_pairs = True
        block._c_unique, block._c_pos = c_unique, c_pos
        block._v_unique, block._v_pos = v_unique, v_pos
        block.c_rows = c_unique[c_pos]
        block.v_rows = v_unique[v_pos]
        block._distance = None
        block._cache = {}
        block._shape = (len(c_pos),)
        block.transposed = {}
        return block

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of every pair array of this block."""
        return self._shape

    def narrowed(self, rows: IntArray) -> PairBlock:
        """This block (one profile against every row of the index) narrowed to some index ``rows``.

        The narrowed block's concept products (:meth:`overlap`, :meth:`skill_credits`,
        :meth:`profile_overlap`) are gathered from this block's full-length ones, each computed once and
        shared by every block narrowed from it. The live path scores competences for a few thousand rows
        in one or two steps: one product over every row through the index's column copies reads only the
        entries of the query's own few concepts, where products over the rows would read all their entries,
        once per step. Elementwise, the numbers are the same as a block over ``rows`` would compute.
        """
        if self.c_single and isinstance(self.v_rows, slice):
            block = PairBlock(self.candidates, self.c_rows, self.vacancies, rows)  # type: ignore[arg-type]
        elif self.v_single and isinstance(self.c_rows, slice):
            block = PairBlock(self.candidates, rows, self.vacancies, self.v_rows)  # type: ignore[arg-type]
        else:
            raise ValueError("only a one-profile block over every index row can be narrowed")
        block._parent = self
        return block

    def _from_parent(self, full: FloatArray) -> FloatArray:
        """A full-length pair array of the parent block, at this block's index rows."""
        return full[self.v_rows if self.c_single else self.c_rows]

    def c(self, name: str) -> np.ndarray:
        """Candidate-side array, one value per pair (a scalar when there is one candidate)."""
        return self.candidates.array(name)[self.c_rows]

    def v(self, name: str) -> np.ndarray:
        """Vacancy-side array, one value per pair (a scalar when there is one vacancy)."""
        return self.vacancies.array(name)[self.v_rows]

    def c_count(self, matrix_name: str) -> np.ndarray:
        """Number of concepts per candidate in one of its matrices (derived, not stored)."""
        return np.diff(self.candidates.matrix(matrix_name).indptr)[self.c_rows]

    def n_languages(self) -> int:
        """Number of language columns on the vacancy side (the only ones that can be required)."""
        return int(self.vacancies.array("languages").shape[1])

    def required_language_columns(self) -> list[int]:
        """Language columns that at least one vacancy of the index requires (others contribute nothing)."""
        return self.vacancies.required_language_columns()

    def c_levels(self, column: int) -> np.ndarray:
        """Candidate levels in one language column (0 where the candidate index has no such column)."""
        lv = self.candidates.array("languages")
        if column >= lv.shape[1]:
            return np.zeros(1, dtype=lv.dtype)[0] if self.c_single else np.zeros(self._shape, dtype=lv.dtype)
        return lv[self.c_rows, column]

    def v_levels(self, column: int) -> np.ndarray:
        """Vacancy minimum levels in one language column."""
        return self.vacancies.array("languages")[self.v_rows, column]

    def overlap(self, c_matrix: str, v_matrix: str) -> FloatArray:
        """Per pair Σ_k C[c, k] · V[v, k]: credits of the candidate's concepts in the vacancy's set."""
        key = f"{c_matrix}|{v_matrix}"
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if self._parent is not None:
            out = self._cache[key] = self._from_parent(self._parent.overlap(c_matrix, v_matrix))
            return out
        cm = self.candidates.matrix(c_matrix)
        vm = self.vacancies.matrix(v_matrix)
        # Columns beyond one side's width hold no values there, so the single side's dense vector is cut to
        # the other side's width instead of copying (widening) the big matrix on every query.
        # A few rows of the index side (row classes, pre-selected rows): only their entries are read.
        if self.c_single:
            indices, data = _row(cm, int(self.c_rows))  # type: ignore[arg-type]
            if isinstance(self.v_rows, slice):
                # Every row (a block others are narrowed from): through the columns of the query's concepts.
                out = _column_sums(self.vacancies.columns(v_matrix), indices, data.astype(np.float64))
                self._cache[key] = out
                return out
            dense = _dense(indices, data, vm.shape[1])
            if _few_rows(self.v_rows, vm.shape[0]):
                out = _rows_product(vm, self.v_rows, dense, self._entries, v_matrix)  # type: ignore[arg-type]
            else:
                out = np.asarray(vm @ dense, dtype=np.float64)[self.v_rows]
        elif self.v_single:
            indices, data = _row(vm, int(self.v_rows))  # type: ignore[arg-type]
            dense = _dense(indices, data, cm.shape[1])
            if _few_rows(self.c_rows, cm.shape[0]):
                out = _rows_product(cm, self.c_rows, dense, self._entries, c_matrix)  # type: ignore[arg-type]
            else:
                out = np.asarray(cm @ dense, dtype=np.float64)[self.c_rows]
        elif c_matrix in self.transposed:
            out = self._sparse_side_products(self.transposed[c_matrix], vm)
        else:
            out = self._pair_products(cm, vm)
        self._cache[key] = out
        return out

    def skill_credits(self, v_matrix: str, related_credit: float) -> FloatArray:
        """Per pair Σ credit of the candidate's competences in a vacancy set: held 1, related-only
        ``related_credit`` (a dyadic number, so both forms below give bit-identical sums)."""
        key = f"credits|{v_matrix}|{related_credit}"
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if self._parent is not None:
            out = self._from_parent(self._parent.skill_credits(v_matrix, related_credit))
            self._cache[key] = out
            return out
        if self.c_single:
            # One product instead of two: held and related-only concepts are disjoint, so one dense vector
            # carries both credits.
            # Only the columns of the candidate's few concepts are read (scatter-add over them); credits
            # are dyadic, so the sum is exact in any order, like the row-wise product.
            c = int(self.c_rows)  # type: ignore[arg-type]
            held_indices, held_data = _row(self.candidates.matrix("held"), c)
            rel_indices, rel_data = _row(self.candidates.matrix("related"), c)
            vm = self.vacancies.matrix(v_matrix)
            if _few_rows(self.v_rows, vm.shape[0]):
                # A few vacancy rows (pre-selected by the live path): read just their entries.
                dense = np.zeros(vm.shape[1], dtype=np.float32)
                keep_h = held_indices < vm.shape[1]
                keep_r = rel_indices < vm.shape[1]
                dense[held_indices[keep_h]] += held_data[keep_h]
                dense[rel_indices[keep_r]] += rel_data[keep_r] * np.float32(related_credit)
                out = _rows_product(vm, self.v_rows, dense, self._entries, v_matrix)  # type: ignore[arg-type]
                self._cache[key] = out
                return out
            cols = np.concatenate([held_indices, rel_indices])
            weights = np.concatenate(
                [held_data.astype(np.float64), rel_data.astype(np.float64) * related_credit]
            )
            out = _column_sums(self.vacancies.columns(v_matrix), cols, weights)[self.v_rows]
        elif (
            self.is_pairs
            and self._c_unique is not None
            and self._v_unique is not None
            and self._c_unique.size <= self._v_unique.size
        ):
            # Many vacancies against a few candidates: one dense block of the candidates' credits.
            held = self.candidates.matrix("held")[self._c_unique]
            related = self.candidates.matrix("related")[self._c_unique]
            combined = (held + related * np.float32(related_credit)).tocsr()
            out = self._pair_products(combined, self.vacancies.matrix(v_matrix), c_gathered=True)
        elif self.is_pairs and "skills" in self.transposed:
            out = self._sparse_side_products(self.transposed["skills"], self.vacancies.matrix(v_matrix))
        else:
            out = self.overlap("held", v_matrix) + related_credit * self.overlap("related", v_matrix)
        self._cache[key] = out
        return out

    def _sparse_side_products(self, c_transposed: sp.csr_matrix, vm: sp.csr_matrix) -> FloatArray:
        """Pair products for a few vacancies against all candidates: the vacancies' few concepts pick rows of
        the transposed candidate matrix, so the work is proportional to the candidates holding them."""
        assert self._v_unique is not None
        assert self._v_pos is not None
        assert self._c_pos is not None
        assert self._c_unique is not None
        part = vm[self._v_unique]
        width = c_transposed.shape[0]
        if part.shape[1] > width:
            part = part[:, :width]
        elif part.shape[1] < width:
            part = _widen(part, width)
        product = (part @ c_transposed).tocsr()  # vacancy rows × all candidate rows
        dense = np.zeros(product.shape, dtype=np.float32)
        rows_of = np.repeat(np.arange(product.shape[0], dtype=np.int64), np.diff(product.indptr))
        dense[rows_of, product.indices] = product.data
        return dense[self._v_pos, self._c_unique[self._c_pos]].astype(np.float64)

    def _pair_products(self, cm: sp.csr_matrix, vm: sp.csr_matrix, *, c_gathered: bool = False) -> FloatArray:
        assert self._c_unique is not None
        assert self._v_unique is not None
        assert self._c_pos is not None
        assert self._v_pos is not None
        # The side with fewer distinct rows becomes a dense block (over the columns the other side has),
        # the other side multiplies it as a sparse matrix: one pass over its non-zeros per dense row, and
        # float32 sums of the dyadic values are exact, as in any other order.
        if self._c_unique.size <= self._v_unique.size:
            small, small_rows, big, big_rows = cm, self._c_unique, vm, self._v_unique
        else:
            small, small_rows, big, big_rows = vm, self._v_unique, cm, self._c_unique
        width = big.shape[1]
        part = small if (c_gathered and small is cm) else small[small_rows]
        if part.shape[1] > width:
            part = part[:, :width]
        dense = np.zeros((width, small_rows.size), dtype=np.float32)
        rows_of = np.repeat(np.arange(part.shape[0], dtype=np.int64), np.diff(part.indptr))
        dense[part.indices, rows_of] = part.data
        if not _is_all_rows(big_rows, big.shape[0]):
            big = big[big_rows]
        grid = np.asarray(big @ dense)  # big rows × small rows
        if small is cm:
            return grid[self._v_pos, self._c_pos].astype(np.float64)
        return grid[self._c_pos, self._v_pos].astype(np.float64)

    def profile_overlap(self) -> FloatArray:
        """Per pair: how many of the candidate's own competences the vacancy's occupation profile contains.

        The vacancy's listed competences outside its profile count as part of the profile.
        """
        hit = self._cache.get("profile")
        if hit is not None:
            return hit
        if self._parent is not None:
            out = self._cache["profile"] = self._from_parent(self._parent.profile_overlap())
            return out
        held = self.candidates.matrix("held")
        profiles = self.vacancies.vocab.profiles.matrix(0)
        prof_ids = self.vacancies.array("profile")[self.v_rows]
        if self.c_single:
            indices, data = _row(held, int(self.c_rows))  # type: ignore[arg-type]
            per_profile = np.append(
                np.asarray(profiles @ _dense(indices, data, profiles.shape[1]), dtype=np.float64), 0.0
            )
            out = per_profile[prof_ids]  # profile -1 → the appended 0
        elif self.v_single:
            p = int(prof_ids)
            if p < 0:
                out = np.zeros(self._shape, dtype=np.float64)
            else:
                indices, data = _row(profiles, p)
                dense = _dense(indices, data, held.shape[1])
                if _few_rows(self.c_rows, held.shape[0]):
                    out = _rows_product(held, self.c_rows, dense, self._entries, "held")  # type: ignore[arg-type]
                else:
                    out = np.asarray(held @ dense, dtype=np.float64)[self.c_rows]
        else:
            assert self._c_unique is not None
            assert self._c_pos is not None
            cols = max(held.shape[1], profiles.shape[1])
            per_profile = (
                (_widen(held[self._c_unique], cols) @ _widen(profiles, cols).T).toarray().astype(np.float64)
            )
            per_profile = np.concatenate([per_profile, np.zeros((per_profile.shape[0], 1))], axis=1)
            out = per_profile[self._c_pos, prof_ids]
        out = out + self.overlap("held", "listed_extra")
        self._cache["profile"] = out
        return out

    def distance_km(self) -> FloatArray:
        """Great-circle km per pair, rounded to 0.1 km (the rounding keeps all paths bit-identical)."""
        if self._distance is None:
            c3 = self.candidates.array("xyz")[self.c_rows]
            v3 = self.vacancies.array("xyz")[self.v_rows]
            self._distance = np.broadcast_to(chord_to_km(chord2(c3, v3)), self._shape)
        return self._distance


def chord2(a: FloatArray, b: FloatArray) -> FloatArray:
    """Squared chord between unit vectors (rows of ``a`` and ``b``, broadcast), in one fixed order."""
    # Stored as float32 (see encoding.unit_vector); computed in float64 like the reference scorer.
    a2 = (a if a.ndim == 2 else a[None, :]).astype(np.float64)
    b2 = (b if b.ndim == 2 else b[None, :]).astype(np.float64)
    return (a2[:, 0] - b2[:, 0]) ** 2 + (a2[:, 1] - b2[:, 1]) ** 2 + (a2[:, 2] - b2[:, 2]) ** 2


EARTH_RADIUS_KM = 6371.0088


def chord_to_km(chord2: FloatArray) -> FloatArray:
    """Squared chord on the unit sphere → great-circle km, rounded to 0.1 km."""
    half = np.sqrt(chord2) * 0.5
    km = (2.0 * EARTH_RADIUS_KM) * np.arcsin(np.minimum(half, 1.0))
    return np.rint(km * 10.0) / 10.0
