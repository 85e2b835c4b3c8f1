"""Stored responses of idempotent POSTs (employer portals retry; a retry must not create a second vacancy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.persistence.base import Base, utcnow


class IdempotencyRecord(Base):
    """One (owner, key): the request's fingerprint and, once done, the response to replay.

    `owner` is the employer id (or the key id for callers without an employer), so two portals can use the
    same key values; the unique constraint is what makes parallel retries create exactly one resource."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_record_owner_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    operation: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
