"""batch: match runs, stored top-K results, chunk checkpoints, published-run pointer

Revision ID: 0400_batch
Revises: 0001
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400_batch"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("top_k", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=64), nullable=False),
        sa.Column("algorithm_version", sa.String(length=32), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("vacancies", sa.Integer(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("pairs_scored", sa.BigInteger(), nullable=False),
        sa.Column("rows_written", sa.BigInteger(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_run")),
    )
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_run_status"), ["status"], unique=False)

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
    op.create_table(
        "match_run_chunk",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("pairs_scored", sa.BigInteger(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_run.id"], name=op.f("fk_match_run_chunk_run_id_match_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "direction", "chunk_no", name=op.f("pk_match_run_chunk")),
    )
    op.create_table(
        "published_run",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_published_run_single_row")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_run.id"], name=op.f("fk_published_run_run_id_match_run"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_run")),
    )


def downgrade() -> None:
    op.drop_table("published_run")
    op.drop_table("match_run_chunk")
    op.drop_table("match_result")
    with op.batch_alter_table("match_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_run_status"))
    op.drop_table("match_run")
