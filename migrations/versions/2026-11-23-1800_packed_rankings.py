"""batch: store one packed ranking per (run, direction, subject) instead of one row per rank

Revision ID: 0800_packed_rankings
Revises: 0700_merge
Create Date: 2026-11-23 18:00:00

Existing runs are converted (stored rows keep their order, scores and distances exactly), so the published run
stays readable across the upgrade; the downgrade unpacks them again. The packing format is written out
here, not imported, so this revision keeps working when ``service.batch.packing`` evolves: ``other_ids``
16 bytes per entry (``UUID.bytes``), ``scores`` int16 little-endian hundredths, ``distances`` float64
little-endian km.
"""

from __future__ import annotations

import itertools

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0800_packed_rankings"
down_revision = "0700_merge"
branch_labels = None
depends_on = None

_BATCH = 2_000

_rows = sa.table(
    "match_result",
    sa.column("run_id", sa.Uuid()),
    sa.column("direction", sa.String()),
    sa.column("subject_id", sa.Uuid()),
    sa.column("rank", sa.SmallInteger()),
    sa.column("other_id", sa.Uuid()),
    sa.column("score", sa.Float()),
    sa.column("distance_km", sa.Float()),
)
_rankings = sa.table(
    "match_ranking",
    sa.column("run_id", sa.Uuid()),
    sa.column("direction", sa.String()),
    sa.column("subject_id", sa.Uuid()),
    sa.column("size", sa.SmallInteger()),
    sa.column("other_ids", sa.LargeBinary()),
    sa.column("scores", sa.LargeBinary()),
    sa.column("distances", sa.LargeBinary()),
)


def _create_rankings() -> None:
    op.create_table(
        "match_ranking",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("size", sa.SmallInteger(), nullable=False),
        sa.Column("other_ids", sa.LargeBinary(), nullable=False),
        sa.Column("scores", sa.LargeBinary(), nullable=False),
        sa.Column("distances", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "direction", "subject_id", name=op.f("pk_match_ranking")),
    )


def _create_rows() -> None:
    op.create_table(
        "match_result",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("other_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "direction", "subject_id", "rank", name=op.f("pk_match_result")),
    )


def upgrade() -> None:
    _create_rankings()
    bind = op.get_bind()
    stream = bind.execute(
        sa.select(
            _rows.c.run_id,
            _rows.c.direction,
            _rows.c.subject_id,
            _rows.c.other_id,
            _rows.c.score,
            _rows.c.distance_km,
        ).order_by(_rows.c.run_id, _rows.c.direction, _rows.c.subject_id, _rows.c.rank)
    )
    pending: list[dict[str, object]] = []
    for (run_id, direction, subject_id), group in itertools.groupby(stream, key=lambda row: tuple(row[:3])):
        entries = list(group)
        pending.append(
            {
                "run_id": run_id,
                "direction": direction,
                "subject_id": subject_id,
                "size": len(entries),
                "other_ids": b"".join(row[3].bytes for row in entries),
                "scores": np.asarray([round(row[4] * 100) for row in entries], dtype="<i2").tobytes(),
                "distances": np.asarray([row[5] for row in entries], dtype="<f8").tobytes(),
            }
        )
        if len(pending) >= _BATCH:
            bind.execute(_rankings.insert(), pending)
            pending = []
    if pending:
        bind.execute(_rankings.insert(), pending)
    op.drop_table("match_result")


def downgrade() -> None:
    import uuid

    _create_rows()
    bind = op.get_bind()
    stream = bind.execute(sa.select(_rankings))
    pending: list[dict[str, object]] = []
    for run_id, direction, subject_id, size, other_ids, scores, distances in stream:
        ids = bytes(other_ids)
        hundredths = np.frombuffer(bytes(scores), dtype="<i2").tolist()
        kms = np.frombuffer(bytes(distances), dtype="<f8").tolist()
        for rank in range(size):
            pending.append(
                {
                    "run_id": run_id,
                    "direction": direction,
                    "subject_id": subject_id,
                    "rank": rank + 1,
                    "other_id": uuid.UUID(bytes=ids[rank * 16 : rank * 16 + 16]),
                    "score": hundredths[rank] / 100,
                    "distance_km": kms[rank],
                }
            )
        if len(pending) >= _BATCH * 50:
            bind.execute(_rows.insert(), pending)
            pending = []
    if pending:
        bind.execute(_rows.insert(), pending)
    op.drop_table("match_ranking")
