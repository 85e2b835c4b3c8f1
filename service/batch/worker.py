"""What one batch worker does for one chunk: load the profiles itself (once per process), rank, write,
checkpoint.

A task carries only the database URL, the run's id and snapshot, and the chunk's boundaries (positions in the
deterministic order of the subjects), so it is tiny on any transport: a local process pool or a Dask cluster.
Each worker process loads the candidate and vacancy indexes from the database itself and keeps them for the
following chunks of the same run; it writes its chunk's rows and checkpoint in one transaction and returns
only
counts. The stored result therefore depends on the data and the chunk boundaries alone, never on which
worker ran
which chunk or in what order: the published result is deterministic.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
import uuid
from dataclasses import dataclass

import numpy as np

from matching.batch import BatchContext
from matching.engine import MatchEngine
from matching.index import CandidateIndex, VacancyIndex, chord_to_km, collector_paused
from service.batch.models import C2V, V2C
from service.batch.packing import PackedRanking, pack, uuid_bytes
from service.batch.store import Snapshot, current_snapshot, write_chunk
from service.matches.mapping import iter_candidate_features, iter_vacancy_features
from service.persistence.db import make_engine, make_sessionmaker


class DataChanged(RuntimeError):
    """The profiles changed since the run took its snapshot; the run cannot mix two moments."""


@dataclass(frozen=True, slots=True)
class ChunkTask:
    """One unit of work: rank subjects ``start:stop`` (in :func:`subject_order`) of one direction of a run."""

    database_url: str
    run_id: str
    direction: str
    chunk_no: int
    start: int
    stop: int
    top_k: int
    snapshot: Snapshot


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """What a worker reports back: counts only (the rows are already in the database)."""

    direction: str
    chunk_no: int
    subjects: int
    rows: int
    pairs_scored: int
    written: bool
    seconds: float


@dataclass
class LoadedProfiles:
    """A worker's indexes for one snapshot, their batch context, the subject order (rows) of both directions
    and every row's id as 16 bytes (for packing rankings)."""

    engine: MatchEngine
    candidates: CandidateIndex
    vacancies: VacancyIndex
    context: BatchContext
    order: dict[str, np.ndarray]
    id_bytes: dict[str, np.ndarray]


_LOCK = threading.Lock()
_LOADED: dict[tuple[str, Snapshot], LoadedProfiles] = {}
_DB_ENGINES: dict[str, object] = {}


class _Malloc:
    """glibc's allocator, tuned for a worker that builds large indexes once and then scores chunks with
    large temporary arrays (a no-op where the C library is not glibc).

    By default glibc raises its mmap threshold to the size of the largest freed block (up to 32 MiB), so the
    chunks' temporary arrays come from the heap, and freed heap memory stays in the process. A fixed 1 MiB
    threshold gives every array of 1 MiB or more its own mapping, returned to the system when freed, and a
    trim after loading returns what the loaders' temporary Python objects left behind. At twente scale that
    keeps each worker about 150 MiB smaller (the batch's process tree stays under 2 GiB)."""

    _M_MMAP_THRESHOLD = -3

    def __init__(self) -> None:
        self._libc = None
        self._tuned = False
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name else None
            if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt"):
                self._libc = libc
        except OSError:
            self._libc = None

    def tune(self) -> None:
        if self._libc is not None and not self._tuned:
            self._libc.mallopt(self._M_MMAP_THRESHOLD, 1 << 20)
            self._tuned = True

    def trim(self) -> None:
        if self._libc is not None:
            self._libc.malloc_trim(0)


_MALLOC = _Malloc()


def subject_order(index: CandidateIndex | VacancyIndex) -> np.ndarray:
    """Live rows in a deterministic spatial order (coarse cells, then id), so a chunk covers a compact region
    and its regional blocking in the engine fetches few targets. Depends only on the data, never on load
    order."""
    index.materialise()
    rows = np.flatnonzero(index.alive)
    xyz = index.array("xyz")[rows]
    ids = index.row_ids[rows].astype(str)
    return rows[np.lexsort((ids, np.round(xyz[:, 0] * 200), np.round(xyz[:, 2] * 200)))]


def _db_engine(url: str):  # noqa: ANN202 - a SQLAlchemy Engine, cached per process
    engine = _DB_ENGINES.get(url)
    if engine is None:
        engine = _DB_ENGINES[url] = make_engine(url)
    return engine


def load_profiles(database_url: str, snapshot: Snapshot) -> LoadedProfiles:
    """The indexes for ``snapshot``, loaded from the database once per process (thread-safe)."""
    key = (database_url, snapshot)
    with _LOCK:
        loaded = _LOADED.get(key)
        if loaded is not None:
            return loaded
        _MALLOC.tune()
        db = _db_engine(database_url)
        factory = make_sessionmaker(db)  # type: ignore[arg-type]
        with factory() as session, session.begin():
            if db.dialect.name == "postgresql":  # type: ignore[attr-defined]
                # One snapshot for the counter and both tables.
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            seen = current_snapshot(session)
            if seen != snapshot:
                raise DataChanged(f"profiles changed since the run started ({seen} != {snapshot})")
            # Ordered by id: the engine allocates concept columns in encoding order, and every worker must
            # build identical indexes. Profiles are encoded as they are read (in chunks), so the features of
            # a whole side never sit in memory beside the records (the peak of a worker).
            engine = MatchEngine()
            with collector_paused():
                # Without a trim after each encoded chunk the heap keeps the chunks' rows and features until
                # the index is built (at twente about 225 MiB of a worker's peak).
                trim = _MALLOC.trim
                cand_index = engine.build_candidate_index(iter_candidate_features(session), after_chunk=trim)
                vac_index = engine.build_vacancy_index(iter_vacancy_features(session), after_chunk=trim)
        _MALLOC.trim()  # before the batch context allocates its tables
        loaded = LoadedProfiles(
            engine=engine,
            candidates=cand_index,
            vacancies=vac_index,
            context=BatchContext.build(engine, cand_index, vac_index),
            order={C2V: subject_order(cand_index), V2C: subject_order(vac_index)},
            id_bytes={C2V: _row_id_bytes(cand_index), V2C: _row_id_bytes(vac_index)},
        )
        _LOADED.clear()  # one run at a time per worker: drop indexes of older snapshots
        _LOADED[key] = loaded
        _MALLOC.trim()  # what the loaded rows and features left behind
        return loaded


def _row_id_bytes(index: CandidateIndex | VacancyIndex) -> np.ndarray:
    """(rows, 16) uint8: each row's id as ``uuid.UUID.bytes`` (zeros for a placeholder row without an id,
    which is never alive and so never ranked)."""
    return uuid_bytes([i or "0" * 32 for i in index.row_ids.astype(str).tolist()])


def rank_chunk(
    loaded: LoadedProfiles, *, direction: str, start: int, stop: int, top_k: int
) -> list[PackedRanking]:
    """The top-``top_k`` of subjects ``start:stop`` of one direction, one packed ranking per subject that has
    any match (a subject with none stores nothing, and reads as an empty ranking)."""
    rows = loaded.order[direction][start:stop]
    if rows.size == 0:
        return []
    candidates_query = direction == C2V
    query, target = (
        (loaded.candidates, loaded.vacancies) if candidates_query else (loaded.vacancies, loaded.candidates)
    )
    counts, others, scores = loaded.context.rank_rows(candidates_query, rows, top_k)
    if others.size == 0:
        return []
    subjects = np.repeat(rows, counts)
    q_xyz = query.array("xyz")[subjects]
    t_xyz = target.array("xyz")[others]
    km = chord_to_km(((q_xyz - t_xyz) ** 2).sum(axis=1)).astype(np.float64)
    has = counts > 0
    return pack(
        direction,
        query.row_ids[rows[has]].astype(str).tolist(),
        counts[has],
        loaded.id_bytes[V2C if candidates_query else C2V][others],
        scores,
        km,
    )


def run_chunk(task: ChunkTask) -> ChunkOutcome:
    """Rank one chunk and store it with its checkpoint (a no-op when the checkpoint already exists)."""
    started = time.perf_counter()
    loaded = load_profiles(task.database_url, task.snapshot)
    rankings = rank_chunk(
        loaded, direction=task.direction, start=task.start, stop=task.stop, top_k=task.top_k
    )
    others = len(loaded.order[V2C if task.direction == C2V else C2V])
    subjects = max(0, min(task.stop, len(loaded.order[task.direction])) - task.start)
    written = write_chunk(
        _db_engine(task.database_url),  # type: ignore[arg-type]
        run_id=uuid.UUID(task.run_id),
        direction=task.direction,
        chunk_no=task.chunk_no,
        subjects=subjects,
        pairs_scored=subjects * others,
        rankings=rankings,
    )
    return ChunkOutcome(
        direction=task.direction,
        chunk_no=task.chunk_no,
        subjects=subjects,
        rows=sum(ranking.size for ranking in rankings),
        pairs_scored=subjects * others,
        written=written,
        seconds=time.perf_counter() - started,
    )


def warm_up(database_url: str, snapshot: Snapshot) -> int:
    """Load the indexes ahead of the first chunk (process pool initializer); returns the number of
    profiles."""
    loaded = load_profiles(database_url, snapshot)
    return len(loaded.order[C2V]) + len(loaded.order[V2C])
