"""foundation: employers, api keys, candidates, vacancies, change events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:17:43.450143
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=False),
        sa.Column("municipality", sa.String(length=6), nullable=False),
        sa.Column("bsn_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("bsn_hash", sa.String(length=64), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("max_travel_km", sa.Integer(), nullable=False),
        sa.Column("hours_min", sa.Integer(), nullable=False),
        sa.Column("hours_max", sa.Integer(), nullable=False),
        sa.Column("available_from", sa.Date(), nullable=True),
        sa.Column("desired_occupations", sa.JSON(), nullable=False),
        sa.Column("competences", sa.JSON(), nullable=False),
        sa.Column("experience", sa.JSON(), nullable=False),
        sa.Column("education_level", sa.String(length=16), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("driving_licences", sa.JSON(), nullable=False),
        sa.Column("certificates", sa.JSON(), nullable=False),
        sa.Column("work_countries", sa.JSON(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("support", sa.String(length=16), nullable=False),
        sa.Column("target_group_register", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate")),
        sa.UniqueConstraint("municipality", "external_ref", name="uq_candidate_municipality_ref"),
    )
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidate_bsn_hash"), ["bsn_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_candidate_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_candidate_status"), ["status"], unique=False)

    op.create_table(
        "change_event",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_event")),
    )
    op.create_table(
        "employer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employer")),
        sa.UniqueConstraint("name", name=op.f("uq_employer_name")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("employer_id", sa.Uuid(), nullable=True),
        sa.Column("municipalities", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employer.id"],
            name=op.f("fk_api_key_employer_id_employer"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_key_digest")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_prefix"), ["prefix"], unique=False)

    op.create_table(
        "vacancy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occupation", sa.JSON(), nullable=True),
        sa.Column("sector", sa.String(length=16), nullable=False),
        sa.Column("competences_required", sa.JSON(), nullable=False),
        sa.Column("competences_desired", sa.JSON(), nullable=False),
        sa.Column("education_level_min", sa.String(length=16), nullable=True),
        sa.Column("languages_required", sa.JSON(), nullable=False),
        sa.Column("driving_licences_required", sa.JSON(), nullable=False),
        sa.Column("certificates_required", sa.JSON(), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("hours_min", sa.Integer(), nullable=False),
        sa.Column("hours_max", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=16), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("garantiebaan", sa.Boolean(), nullable=False),
        sa.Column("wage_subsidy_possible", sa.Boolean(), nullable=False),
        sa.Column("closes_at", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employer.id"],
            name=op.f("fk_vacancy_employer_id_employer"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vacancy")),
        sa.UniqueConstraint("employer_id", "external_ref", name="uq_vacancy_employer_ref"),
    )
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vacancy_employer_id"), ["employer_id"], unique=False)
        batch_op.create_index("ix_vacancy_status_sector", ["status", "sector"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vacancy", schema=None) as batch_op:
        batch_op.drop_index("ix_vacancy_status_sector")
        batch_op.drop_index(batch_op.f("ix_vacancy_employer_id"))

    op.drop_table("vacancy")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_prefix"))

    op.drop_table("api_key")
    op.drop_table("employer")
    op.drop_table("change_event")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_status"))
        batch_op.drop_index(batch_op.f("ix_candidate_municipality"))
        batch_op.drop_index(batch_op.f("ix_candidate_bsn_hash"))

    op.drop_table("candidate")
