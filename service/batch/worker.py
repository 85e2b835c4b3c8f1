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

import threading
import time
import uuid
from dataclasses import dataclass

import numpy as np

from matching.engine import MatchEngine
from matching.index import CandidateIndex, VacancyIndex, chord_to_km
from service.batch.models import C2V, V2C
from service.batch.store import ResultRow, Snapshot, current_snapshot, write_chunk
from service.matches.mapping import load_candidate_features, load_vacancy_features
from service.persistence.db import make_engine, make_sessionmaker

#: Pairs the engine scores at once (subjects of one block × targets in their region). Every factor makes a few
#: float arrays of this many pairs, so this bounds a worker's scratch memory to a few hundred MB whatever the
#: data size (256 subjects × 50,000 candidates took 3.4 GB in one process), while a block stays large enough
#: for numpy's work to dwarf the per-block Python overhead.
PAIR_BUDGET = 1_000_000


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
    """A worker's indexes for one snapshot, and the subject order of both directions."""

    engine: MatchEngine
    candidates: CandidateIndex
    vacancies: VacancyIndex
    order: dict[str, list[str]]


_LOCK = threading.Lock()
_LOADED: dict[tuple[str, Snapshot], LoadedProfiles] = {}
_DB_ENGINES: dict[str, object] = {}


def subject_order(index: CandidateIndex | VacancyIndex) -> list[str]:
    """Live ids in a deterministic spatial order (coarse cells, then id), so a chunk covers a compact region
    and
    its regional blocking in the engine fetches few targets. Depends only on the data, never on load order."""
    index.materialise()
    rows = np.flatnonzero(index.alive)
    xyz = index.array("xyz")[rows]
    ids = index.row_ids[rows].astype(str)
    order = np.lexsort((ids, np.round(xyz[:, 0] * 200), np.round(xyz[:, 2] * 200)))
    return [str(i) for i in ids[order]]


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
            # build identical indexes.
            candidates = load_candidate_features(session)
            vacancies = load_vacancy_features(session)
        engine = MatchEngine()
        cand_index = engine.build_candidate_index(candidates)
        vac_index = engine.build_vacancy_index(vacancies)
        del candidates, vacancies
        loaded = LoadedProfiles(
            engine=engine,
            candidates=cand_index,
            vacancies=vac_index,
            order={C2V: subject_order(cand_index), V2C: subject_order(vac_index)},
        )
        _LOADED.clear()  # one run at a time per worker: drop indexes of older snapshots
        _LOADED[key] = loaded
        return loaded


def rank_chunk(
    loaded: LoadedProfiles, *, direction: str, start: int, stop: int, top_k: int
) -> list[ResultRow]:
    """The top-``top_k`` rows of subjects ``start:stop`` of one direction, in (subject, rank) order."""
    subjects = loaded.order[direction][start:stop]
    if not subjects:
        return []
    engine = loaded.engine
    others = len(loaded.order[V2C if direction == C2V else C2V])
    block = max(8, min(256, PAIR_BUDGET // max(others, 1)))
    if direction == C2V:
        query, target = loaded.candidates, loaded.vacancies
        ranked = engine.top_k_vacancies_for_candidates(
            query, target, k=top_k, candidate_ids=subjects, chunk_size=block
        )
    else:
        query, target = loaded.vacancies, loaded.candidates  # type: ignore[assignment]
        ranked = engine.top_k_candidates_for_vacancies(
            query, target, k=top_k, vacancy_ids=subjects, chunk_size=block
        )
    results = dict(ranked)
    subject_rows: list[int] = []
    other_rows: list[int] = []
    flat: list[tuple[str, int, str, float]] = []
    for subject in sorted(subjects):
        s_row = query.row(subject)
        for rank, (other, score) in enumerate(results.get(subject, ()), start=1):
            subject_rows.append(s_row)
            other_rows.append(target.row(other))
            flat.append((subject, rank, other, score))
    if not flat:
        return []
    q_xyz = query.array("xyz")[np.asarray(subject_rows)]
    t_xyz = target.array("xyz")[np.asarray(other_rows)]
    km = chord_to_km(((q_xyz - t_xyz) ** 2).sum(axis=1)).tolist()
    return [
        (direction, s, r, o, float(score), float(d)) for (s, r, o, score), d in zip(flat, km, strict=True)
    ]


def run_chunk(task: ChunkTask) -> ChunkOutcome:
    """Rank one chunk and store it with its checkpoint (a no-op when the checkpoint already exists)."""
    started = time.perf_counter()
    loaded = load_profiles(task.database_url, task.snapshot)
    rows = rank_chunk(loaded, direction=task.direction, start=task.start, stop=task.stop, top_k=task.top_k)
    others = len(loaded.order[V2C if task.direction == C2V else C2V])
    subjects = max(0, min(task.stop, len(loaded.order[task.direction])) - task.start)
    written = write_chunk(
        _db_engine(task.database_url),  # type: ignore[arg-type]
        run_id=uuid.UUID(task.run_id),
        direction=task.direction,
        chunk_no=task.chunk_no,
        subjects=subjects,
        pairs_scored=subjects * others,
        rows=rows,
    )
    return ChunkOutcome(
        direction=task.direction,
        chunk_no=task.chunk_no,
        subjects=subjects,
        rows=len(rows),
        pairs_scored=subjects * others,
        written=written,
        seconds=time.perf_counter() - started,
    )


def warm_up(database_url: str, snapshot: Snapshot) -> int:
    """Load the indexes ahead of the first chunk (process pool initializer); returns the number of
    profiles."""
    loaded = load_profiles(database_url, snapshot)
    return len(loaded.order[C2V]) + len(loaded.order[V2C])
