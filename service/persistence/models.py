"""All ORM models of werkmatch. Tables are singular snake_case; timestamps end in `_at`; public ids are
UUIDs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.persistence.base import Base, new_id, utcnow


class Employer(Base):
    """An employer that posts vacancies; bound to employer API keys."""

    __tablename__ = "employer"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key. Only a SHA-256 digest of the secret is stored; the key itself is shown once at creation."""

    __tablename__ = "api_key"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    employer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("employer.id", ondelete="RESTRICT"))
    municipalities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    employer: Mapped[Employer | None] = relationship(lazy="raise")


class Candidate(Base):
    """A job seeker on bijstand, kept by the coaches of one municipality (SONAR-like profile)."""

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("municipality", "external_ref", name="uq_candidate_municipality_ref"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_ref: Mapped[str] = mapped_column(String(64))
    municipality: Mapped[str] = mapped_column(String(6), index=True)
    bsn_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    bsn_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    max_travel_km: Mapped[int] = mapped_column(Integer, default=25)
    hours_min: Mapped[int] = mapped_column(Integer)
    hours_max: Mapped[int] = mapped_column(Integer)
    available_from: Mapped[date | None] = mapped_column(Date)
    desired_occupations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    competences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    experience: Mapped[list[Any]] = mapped_column(JSON, default=list)
    education_level: Mapped[str | None] = mapped_column(String(16))
    languages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    driving_licences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    certificates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    work_countries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    support: Mapped[str] = mapped_column(String(16), default="direct")
    target_group_register: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class Vacancy(Base):
    """A vacancy posted by an employer; readable by coaches."""

    __tablename__ = "vacancy"
    __table_args__ = (
        UniqueConstraint("employer_id", "external_ref", name="uq_vacancy_employer_ref"),
        Index("ix_vacancy_status_sector", "status", "sector"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    employer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("employer.id", ondelete="RESTRICT"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    occupation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sector: Mapped[str] = mapped_column(String(16))
    competences_required: Mapped[list[Any]] = mapped_column(JSON, default=list)
    competences_desired: Mapped[list[Any]] = mapped_column(JSON, default=list)
    education_level_min: Mapped[str | None] = mapped_column(String(16))
    languages_required: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    driving_licences_required: Mapped[list[Any]] = mapped_column(JSON, default=list)
    certificates_required: Mapped[list[Any]] = mapped_column(JSON, default=list)
    postcode: Mapped[str] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    hours_min: Mapped[int] = mapped_column(Integer)
    hours_max: Mapped[int] = mapped_column(Integer)
    contract: Mapped[str] = mapped_column(String(16), default="permanent")
    positions: Mapped[int] = mapped_column(Integer, default=1)
    garantiebaan: Mapped[bool] = mapped_column(Boolean, default=False)
    wage_subsidy_possible: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_at: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    employer: Mapped[Employer] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class ChangeEvent(Base):
    """One row per write to a candidate or vacancy: processes poll `max(seq)` to keep their match index
    fresh."""

    __tablename__ = "change_event"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


# Feature modules keep their own tables; importing them here puts every table on Base.metadata for Alembic.
from service.audit import models as _audit_models  # noqa: E402,F401  (registers the audit tables)
from service.batch import models as _batch_models  # noqa: E402,F401  (registers the batch tables)
from service.gdpr import models as _gdpr_models  # noqa: E402,F401  (registers the erasure tombstones)
from service.proposals import models as _proposal_models  # noqa: E402,F401  (registers the proposal table)
from service.security import models as _security_models  # noqa: E402,F401  (registers idempotency records)
