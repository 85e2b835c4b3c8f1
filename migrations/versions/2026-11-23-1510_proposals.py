"""proposals: a coach's proposal of a candidate to a vacancy, with its outcome

Revision ID: 0600_proposals
Revises: 0001
Create Date: 2026-11-23 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0600_proposals"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vacancy_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=True),
        sa.Column("municipality", sa.String(length=6), nullable=False),
        sa.Column("proposed_by", sa.Uuid(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["vacancy_id"], ["vacancy.id"], name=op.f("fk_proposal_vacancy_id_vacancy"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_proposal_candidate_id_candidate"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
        sa.UniqueConstraint("vacancy_id", "candidate_id", name="uq_proposal_vacancy_candidate"),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_candidate_id"), ["candidate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_status"))
        batch_op.drop_index(batch_op.f("ix_proposal_municipality"))
        batch_op.drop_index(batch_op.f("ix_proposal_candidate_id"))
    op.drop_table("proposal")
