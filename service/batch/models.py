"""Tables of the nightly batch: runs, their stored top-K results, chunk checkpoints and the published-run
pointer.

A run writes its results chunk by chunk; every chunk's rows and its checkpoint row commit in one transaction,
so a checkpoint exists exactly when the chunk's rows do. Readers never look at a run directly: they follow the
single ``published_run`` row, which the run flips in one transaction when it is complete (atomic publishing).

A run stores one ``match_ranking`` row per (direction, subject): the subject's whole top-K packed into
three binary columns (ids, scores, distances; see :mod:`service.batch.packing`). That is 50× fewer rows
than one row per rank, which is what makes the nightly write cheap (a top-50 run over 60,000 profiles
writes 60,000 rows, not 3 million); readers always want a subject's ranking as a whole, and
``werkmatch batch export`` unpacks it to one CSV line per rank. ``match_ranking`` deliberately has no
foreign key to ``match_run``: it is bulk data written with COPY, a per-row referential check would slow
every write, and its rows are only ever created by a run that exists and deleted by pruning that run.
Explanations are not stored: they are built lazily for the few pairs a reader shows (CONVENTIONS.md), from
the stored pair and the run's algorithm version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.persistence.base import Base, new_id, utcnow

#: Directions of a stored ranking: vacancies for a candidate, candidates for a vacancy.
C2V = "c2v"
V2C = "v2c"


class MatchRun(Base):
    """One batch run: what it computed, with which algorithm, how far it got and whether it was published."""

    __tablename__ = "match_run"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(
        String(16), default="running", index=True
    )  # running | complete | failed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    top_k: Mapped[int] = mapped_column(Integer)
    chunk_size: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[str] = mapped_column(String(32))
    candidates: Mapped[int] = mapped_column(Integer, default=0)
    vacancies: Mapped[int] = mapped_column(Integer, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    pairs_scored: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class MatchRanking(Base):
    """The stored top-K of one subject (direction c2v: vacancies for a candidate, v2c: candidates for a
    vacancy), best first: ``size`` entries packed by :mod:`service.batch.packing`."""

    __tablename__ = "match_ranking"

    run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(SmallInteger)
    #: ``size`` × 16 bytes: the other side's ids (``uuid.UUID.bytes``), best first.
    other_ids: Mapped[bytes] = mapped_column(LargeBinary)
    #: ``size`` × int16 little-endian: scores in hundredths (0..10000).
    scores: Mapped[bytes] = mapped_column(LargeBinary)
    #: ``size`` × float64 little-endian: distances in km.
    distances: Mapped[bytes] = mapped_column(LargeBinary)


class MatchRunChunk(Base):
    """Checkpoint: chunk ``chunk_no`` of one direction of a run has committed its rows."""

    __tablename__ = "match_run_chunk"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("match_run.id", ondelete="CASCADE"), primary_key=True
    )
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    subjects: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    pairs_scored: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublishedRun(Base):
    """The one row that says which complete run readers see (flipped in one transaction; ``id`` is always
    1)."""

    __tablename__ = "published_run"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("match_run.id", ondelete="RESTRICT"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
