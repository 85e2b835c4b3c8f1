"""All SQL of the nightly batch: runs, bulk writes of chunk results with their checkpoint, publishing,
reading, and removing an erased person from stored rankings.

Results are stored as one packed ``match_ranking`` row per (run, direction, subject) (see
:mod:`service.batch.packing`). Writes use the database's bulk path: ``COPY ... FROM STDIN`` through
psycopg 3 on PostgreSQL, one ``executemany`` on the raw DB-API cursor on SQLite. A chunk's rows and its
checkpoint row share one transaction, so a checkpoint exists exactly when the chunk's rows do, and writing a
chunk twice (a retried Dask task, two workers racing) is harmless: the second writer sees the checkpoint and
stores nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from service.batch.models import C2V, V2C, MatchRanking, MatchRun, MatchRunChunk, PublishedRun
from service.batch.packing import PackedRanking, repack, unpack, without
from service.matches.mapping import ACTIVE_CANDIDATE, OPEN_VACANCY
from service.persistence.base import utcnow
from service.persistence.db import begin_write
from service.persistence.models import Candidate, ChangeEvent, Vacancy

#: One stored match as a tuple: (direction, subject_id, rank, other_id, score, distance_km); ids as canonical
#: UUID strings (the export's unit: one CSV line per rank).
ResultRow = tuple[str, str, int, str, float, float]

#: The columns of a stored ranking that :func:`service.batch.packing.unpack` takes, in its argument order.
_PACKED = (MatchRanking.size, MatchRanking.other_ids, MatchRanking.scores, MatchRanking.distances)

#: How many complete runs pruning keeps (the published one is always kept).
KEEP_RUNS = 3


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a run computes over: the change counter and the number of active candidates and open vacancies.

    Every process that loads the profiles checks it sees the same snapshot, so a run never mixes data of two
    moments (a write in between fails the chunk, and a resumed run whose data changed starts over).
    """

    watermark: int
    candidates: int
    vacancies: int


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run as readers and the admin endpoint see it."""

    id: uuid.UUID
    status: str
    started_at: datetime
    finished_at: datetime | None
    published_at: datetime | None
    top_k: int
    algorithm: str
    algorithm_version: str
    candidates: int
    vacancies: int
    chunks_total: int
    chunks_done: int
    pairs_scored: int
    rows_written: int
    published: bool


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """One row of a published ranking."""

    rank: int
    other_id: uuid.UUID
    score: float
    distance_km: float


# --------------------------------------------------------------------------------------------- snapshot
def current_snapshot(session: Session) -> Snapshot:
    """The change counter and the counts of the profiles a batch ranks (active candidates, open vacancies)."""
    watermark = session.scalar(select(func.coalesce(func.max(ChangeEvent.seq), 0))) or 0
    candidates = session.scalar(
        select(func.count()).select_from(Candidate).where(Candidate.status == ACTIVE_CANDIDATE)
    )
    vacancies = session.scalar(
        select(func.count()).select_from(Vacancy).where(Vacancy.status == OPEN_VACANCY)
    )
    return Snapshot(watermark=int(watermark), candidates=int(candidates or 0), vacancies=int(vacancies or 0))


# ------------------------------------------------------------------------------------------------- runs
def create_run(
    session: Session,
    *,
    top_k: int,
    chunk_size: int,
    algorithm: str,
    algorithm_version: str,
    snapshot: Snapshot,
    chunks_total: int,
    params: dict[str, Any],
) -> MatchRun:
    """Insert a new run in status ``running`` (flushed, not committed)."""
    run = MatchRun(
        status="running",
        top_k=top_k,
        chunk_size=chunk_size,
        algorithm=algorithm,
        algorithm_version=algorithm_version,
        candidates=snapshot.candidates,
        vacancies=snapshot.vacancies,
        chunks_total=chunks_total,
        pairs_scored=0,
        rows_written=0,
        params={**params, "watermark": snapshot.watermark},
    )
    session.add(run)
    session.flush()
    return run


def latest_unfinished_run(session: Session) -> MatchRun | None:
    """The most recently started run that is still ``running`` (killed) or ``failed``, if it is newer than the
    newest complete run (resuming a run older than a published one would publish stale results)."""
    newest_complete = session.scalar(
        select(func.max(MatchRun.started_at)).where(MatchRun.status == "complete")
    )
    statement = select(MatchRun).where(MatchRun.status.in_(("running", "failed")))
    if newest_complete is not None:
        statement = statement.where(MatchRun.started_at > newest_complete)
    return session.scalars(statement.order_by(MatchRun.started_at.desc(), MatchRun.id).limit(1)).first()


def restart_run(session: Session, run: MatchRun, *, snapshot: Snapshot, chunks_total: int) -> None:
    """Forget a run's checkpoints and rows (its data changed since it started); it will be computed again."""
    session.execute(delete(MatchRanking).where(MatchRanking.run_id == run.id))
    session.execute(delete(MatchRunChunk).where(MatchRunChunk.run_id == run.id))
    run.candidates = snapshot.candidates
    run.vacancies = snapshot.vacancies
    run.chunks_total = chunks_total
    run.params = {**run.params, "watermark": snapshot.watermark, "restarted": True}
    run.status = "running"
    run.error = None
    session.flush()


def mark_running(session: Session, run_id: uuid.UUID) -> None:
    """Set a (failed) run back to ``running`` when it is resumed."""
    session.execute(update(MatchRun).where(MatchRun.id == run_id).values(status="running", error=None))


def committed_chunks(session: Session, run_id: uuid.UUID) -> set[tuple[str, int]]:
    """(direction, chunk_no) of every checkpointed chunk of a run."""
    rows = session.execute(
        select(MatchRunChunk.direction, MatchRunChunk.chunk_no).where(MatchRunChunk.run_id == run_id)
    )
    return {(direction, int(chunk_no)) for direction, chunk_no in rows}


def fail_run(session: Session, run_id: uuid.UUID, *, error: str) -> None:
    """Mark a run failed (it can be resumed)."""
    session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id)
        .values(status="failed", error=error[:2000], finished_at=utcnow())
    )


def complete_and_publish(session: Session, run_id: uuid.UUID) -> MatchRun:
    """In ONE transaction: totals from the checkpoints, status ``complete``, and the published pointer
    flipped.

    Raises ``RuntimeError`` when checkpoints are missing (nothing is published then).
    """
    begin_write(session)
    run = session.get(MatchRun, run_id, with_for_update=session.get_bind().dialect.name == "postgresql")
    if run is None:
        raise RuntimeError(f"run {run_id} does not exist")
    done, rows, pairs = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(MatchRunChunk.rows), 0),
            func.coalesce(func.sum(MatchRunChunk.pairs_scored), 0),
        ).where(MatchRunChunk.run_id == run_id)
    ).one()
    if int(done) != run.chunks_total:
        raise RuntimeError(f"run {run_id}: {done} of {run.chunks_total} chunks committed; not publishing")
    now = utcnow()
    run.status = "complete"
    run.finished_at = now
    run.published_at = now
    run.rows_written = int(rows)
    run.pairs_scored = int(pairs)
    pointer = session.get(PublishedRun, 1)
    if pointer is None:
        session.add(PublishedRun(id=1, run_id=run_id, published_at=now))
    else:
        pointer.run_id = run_id
        pointer.published_at = now
    session.flush()
    return run


def prune_runs(session: Session, *, keep: int = KEEP_RUNS) -> list[uuid.UUID]:
    """Delete all but the newest ``keep`` complete runs (never the published one), and unfinished runs older
    than the published one (they can no longer be resumed). Returns the ids deleted."""
    begin_write(session)
    published = session.scalar(select(PublishedRun.run_id).where(PublishedRun.id == 1))
    complete = session.scalars(
        select(MatchRun.id)
        .where(MatchRun.status == "complete")
        .order_by(MatchRun.started_at.desc(), MatchRun.id)
    ).all()
    doomed = [run_id for run_id in complete[keep:] if run_id != published]
    if published is not None:
        published_started = session.scalar(select(MatchRun.started_at).where(MatchRun.id == published))
        doomed += session.scalars(
            select(MatchRun.id).where(
                MatchRun.status.in_(("running", "failed")), MatchRun.started_at < published_started
            )
        ).all()
    for run_id in doomed:
        session.execute(delete(MatchRanking).where(MatchRanking.run_id == run_id))
        session.execute(delete(MatchRunChunk).where(MatchRunChunk.run_id == run_id))
        session.execute(delete(MatchRun).where(MatchRun.id == run_id))
    return doomed


# ------------------------------------------------------------------------------------------ bulk write
def write_chunk(
    engine: Engine,
    *,
    run_id: uuid.UUID,
    direction: str,
    chunk_no: int,
    subjects: int,
    pairs_scored: int,
    rankings: Sequence[PackedRanking],
) -> bool:
    """Store one chunk's rankings and its checkpoint in one transaction. False when the chunk was already
    stored. The checkpoint's ``rows`` counts matches (ranks), not packed rows."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # The write lock at BEGIN: two workers queue on busy_timeout instead of failing on lock upgrade.
            connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            done = connection.scalar(
                select(func.count())
                .select_from(MatchRunChunk)
                .where(
                    MatchRunChunk.run_id == run_id,
                    MatchRunChunk.direction == direction,
                    MatchRunChunk.chunk_no == chunk_no,
                )
            )
            if done:
                return False
            raw = connection.connection.dbapi_connection
            assert raw is not None
            columns = "run_id, direction, subject_id, size, other_ids, scores, distances"
            if engine.dialect.name == "postgresql":
                copy_sql = f"COPY match_ranking ({columns}) FROM STDIN"
                with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
                    for r in rankings:
                        copy.write_row(
                            (run_id, r.direction, r.subject_id, r.size, r.other_ids, r.scores, r.distances)
                        )
            else:
                # SQLAlchemy's Uuid type stores 32 hex digits on SQLite; the raw path must write the same.
                run_hex = run_id.hex
                cursor = raw.cursor()
                try:
                    cursor.executemany(
                        f"INSERT INTO match_ranking ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                run_hex,
                                r.direction,
                                r.subject_id.replace("-", ""),
                                r.size,
                                r.other_ids,
                                r.scores,
                                r.distances,
                            )
                            for r in rankings
                        ],
                    )
                finally:
                    cursor.close()
            connection.execute(
                MatchRunChunk.__table__.insert().values(
                    run_id=run_id,
                    direction=direction,
                    chunk_no=chunk_no,
                    subjects=subjects,
                    rows=sum(r.size for r in rankings),
                    pairs_scored=pairs_scored,
                    committed_at=utcnow(),
                )
            )
    return True


# ---------------------------------------------------------------------------------------------- reading
def published_run_id(session: Session) -> uuid.UUID | None:
    """The id of the run readers see, or None before the first complete run."""
    return session.scalar(select(PublishedRun.run_id).where(PublishedRun.id == 1))


def _info(session: Session, run: MatchRun, *, published: uuid.UUID | None) -> RunInfo:
    chunks_done = session.scalar(
        select(func.count()).select_from(MatchRunChunk).where(MatchRunChunk.run_id == run.id)
    )
    return RunInfo(
        id=run.id,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        published_at=run.published_at,
        top_k=run.top_k,
        algorithm=run.algorithm,
        algorithm_version=run.algorithm_version,
        candidates=run.candidates,
        vacancies=run.vacancies,
        chunks_total=run.chunks_total,
        chunks_done=int(chunks_done or 0),
        pairs_scored=run.pairs_scored,
        rows_written=run.rows_written,
        published=run.id == published,
    )


def get_run(session: Session, run_id: uuid.UUID) -> RunInfo | None:
    """One run, or None."""
    run = session.get(MatchRun, run_id)
    return None if run is None else _info(session, run, published=published_run_id(session))


def list_runs(session: Session, *, limit: int = 50) -> list[RunInfo]:
    """Newest runs first."""
    published = published_run_id(session)
    runs = session.scalars(
        select(MatchRun).order_by(MatchRun.started_at.desc(), MatchRun.id).limit(limit)
    ).all()
    return [_info(session, run, published=published) for run in runs]


def read_published_matches(
    session: Session, *, direction: str, subject_id: uuid.UUID, limit: int
) -> tuple[RunInfo | None, list[StoredMatch]]:
    """The published run's stored ranking of one subject (``direction`` ``"c2v"``: vacancies for a candidate,
    ``"v2c"``: candidates for a vacancy), best first. ``(None, [])`` before the first published run.

    Authorization is the caller's job: check the subject is visible to the principal first (the rows carry ids
    only, and a vacancy→candidate list must still be scoped to the coach's own candidates).
    """
    if direction not in (C2V, V2C):
        raise ValueError(f"direction must be {C2V!r} or {V2C!r}")
    run_id = published_run_id(session)
    if run_id is None:
        return None, []
    run = session.get(MatchRun, run_id)
    assert run is not None
    stored = session.execute(
        select(*_PACKED).where(
            MatchRanking.run_id == run_id,
            MatchRanking.direction == direction,
            MatchRanking.subject_id == subject_id,
        )
    ).one_or_none()
    matches: list[StoredMatch] = []
    if stored is not None:
        for rank, other, score, km in unpack(*stored).entries():
            if rank > limit:
                break
            matches.append(StoredMatch(rank=rank, other_id=uuid.UUID(other), score=score, distance_km=km))
    return _info(session, run, published=run_id), matches


def iter_run_results(session: Session, run_id: uuid.UUID) -> Iterator[ResultRow]:
    """Every stored match of a run in (direction, subject_id, rank) order, one tuple per rank, streamed
    (server-side on PostgreSQL)."""
    statement = (
        select(
            MatchRanking.direction,
            MatchRanking.subject_id,
            *_PACKED,
        )
        .where(MatchRanking.run_id == run_id)
        .order_by(MatchRanking.direction, MatchRanking.subject_id)
        .execution_options(stream_results=True, yield_per=2_000)
    )
    for direction, subject_id, size, other_ids, scores, distances in session.execute(statement):
        subject = str(subject_id)
        for rank, other, score, km in unpack(size, other_ids, scores, distances).entries():
            yield (direction, subject, rank, other, score, km)


def c2v_pairs(
    session: Session, run_id: uuid.UUID, candidate_ids: Sequence[uuid.UUID], *, min_score: float
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(candidate, vacancy) of every stored c2v match of ``candidate_ids`` in a run with score ≥
    ``min_score``."""
    if not candidate_ids:
        return set()
    rows = session.execute(
        select(
            MatchRanking.subject_id,
            *_PACKED,
        ).where(
            MatchRanking.run_id == run_id,
            MatchRanking.direction == C2V,
            MatchRanking.subject_id.in_(candidate_ids),
        )
    )
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for subject, *stored in rows:
        for _rank, other, score, _km in unpack(*stored).entries():
            if score >= min_score:
                pairs.add((subject, uuid.UUID(other)))
    return pairs


def erase_from_rankings(session: Session, candidate_id: uuid.UUID) -> int:
    """Remove a candidate from every stored ranking of every run (GDPR erasure): its own rankings (c2v) go,
    and it is cut out of the vacancies' rankings (v2c), the entries below it moving up one rank. Returns the
    number of rankings changed or deleted."""
    changed = (
        session.execute(
            delete(MatchRanking).where(MatchRanking.direction == C2V, MatchRanking.subject_id == candidate_id)
        ).rowcount
        or 0
    )
    needle = candidate_id.bytes
    if session.get_bind().dialect.name == "postgresql":
        contains = text("position(CAST(:needle AS bytea) in match_ranking.other_ids) > 0")
    else:
        contains = text("instr(match_ranking.other_ids, :needle) > 0")
    found = session.execute(
        select(
            MatchRanking.run_id,
            MatchRanking.subject_id,
            *_PACKED,
        )
        .where(MatchRanking.direction == V2C, contains)
        .params(needle=needle)
    ).all()
    target = str(candidate_id)
    for run_id, subject_id, *stored in found:
        decoded = unpack(*stored)
        if target not in decoded.other_ids:  # the bytes matched across an entry boundary: not this id
            continue
        size, other_ids, scores, distances = repack(without(decoded, target))
        session.execute(
            update(MatchRanking)
            .where(
                MatchRanking.run_id == run_id,
                MatchRanking.direction == V2C,
                MatchRanking.subject_id == subject_id,
            )
            .values(size=size, other_ids=other_ids, scores=scores, distances=distances)
        )
        changed += 1
    return changed


def resolve_run(session: Session, run: str) -> MatchRun | None:
    """``latest`` → the published run; a UUID → that run if complete. None otherwise."""
    if run == "latest":
        run_id = published_run_id(session)
        return None if run_id is None else session.get(MatchRun, run_id)
    try:
        run_id = uuid.UUID(run)
    except ValueError:
        return None
    found = session.get(MatchRun, run_id)
    return found if found is not None and found.status == "complete" else None
