"""privacy: hash-chained audit log (entries, subjects, chain head), erasure tombstones, idempotency records

Revision ID: 0500_privacy
Revises: 0001
Create Date: 2026-11-23 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500_privacy"
down_revision = "0001"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("seq", _SEQ, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_key_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("municipality", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entry_hash")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_entry_actor_key_id", ["actor_key_id"], unique=False)
    op.create_table(
        "audit_subject",
        sa.Column("seq", _SEQ, autoincrement=False, nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"], ["audit_entry.seq"], name=op.f("fk_audit_subject_seq_audit_entry"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", "candidate_id", name=op.f("pk_audit_subject")),
    )
    with op.batch_alter_table("audit_subject", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_subject_candidate_id"), ["candidate_id"], unique=False)
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", _SEQ, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("pruned_seq", _SEQ, nullable=False),
        sa.Column("pruned_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "candidate_tombstone",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("municipality", sa.String(length=6), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_tombstone")),
    )
    with op.batch_alter_table("candidate_tombstone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_candidate_tombstone_municipality"), ["municipality"], unique=False
        )
    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("owner", "key", name="uq_idempotency_record_owner_key"),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_record_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_created_at"))
    op.drop_table("idempotency_record")
    with op.batch_alter_table("candidate_tombstone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_tombstone_municipality"))
    op.drop_table("candidate_tombstone")
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_subject_candidate_id"))
    op.drop_table("audit_subject")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_actor_key_id")
        batch_op.drop_index("ix_audit_entry_at")
    op.drop_table("audit_entry")
