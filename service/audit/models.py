"""The audit table: one append-only, hash-chained row per response that reveals a candidate."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.persistence.base import Base, utcnow


class AuditEntry(Base):
    """Who (key and role, acting for which municipality) did what to which object about which candidates,
    when, with which result, from where. `hash` chains each entry to the previous one (see
    `service.audit.chain`).

    No personal data lives here besides candidate ids: names and BSNs never enter the audit log, so the log
    can outlive an erased candidate (GDPR art. 17(3)(b): a legal obligation to keep access logs)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_actor_key_id", "actor_key_id"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_role: Mapped[str] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    subjects: Mapped[list[Any]] = mapped_column(JSON, default=list)
    result: Mapped[str] = mapped_column(String(32), default="ok")
    origin: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditSubject(Base):
    """One row per (entry, candidate): lets "who looked at this candidate" use an index instead of scanning
    JSON.

    Derived from `AuditEntry.subjects` in the same transaction; the chain covers `subjects`, not this
    table."""

    __tablename__ = "audit_subject"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("audit_entry.seq", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    candidate_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)


class AuditChainHead(Base):
    """The single chain-head row (id 1): the newest entry's seq and hash, and where retention pruned the log.

    Appends update it in the same transaction, so deleting the newest entries is detected (their seq is still
    recorded here) and pruning old entries keeps an anchor (`pruned_seq`, `pruned_hash`) for the first
    survivor."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))
    pruned_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    pruned_hash: Mapped[str] = mapped_column(String(64))
