"""All SQL that reads the audit log (appending lives in `service.audit.recorder`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.audit.models import AuditEntry, AuditSubject


class AuditRepository:
    """Keyset-paginated, newest-first reads of the audit log. Callers decide who may read (admin, or a coach
    for one candidate already checked to be visible)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        *,
        limit: int,
        before_seq: int | None = None,
        candidate_id: uuid.UUID | None = None,
        actor_key_id: uuid.UUID | None = None,
        action: str | None = None,
        object_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[list[AuditEntry], int | None]:
        """One page of entries (newest first) and the cursor for the next page."""
        statement: Select[tuple[AuditEntry]] = select(AuditEntry)
        if candidate_id is not None:
            statement = statement.where(
                AuditEntry.seq.in_(select(AuditSubject.seq).where(AuditSubject.candidate_id == candidate_id))
            )
        if before_seq is not None:
            statement = statement.where(AuditEntry.seq < before_seq)
        if actor_key_id is not None:
            statement = statement.where(AuditEntry.actor_key_id == actor_key_id)
        if action is not None:
            statement = statement.where(AuditEntry.action == action)
        if object_type is not None:
            statement = statement.where(AuditEntry.object_type == object_type)
        if since is not None:
            statement = statement.where(AuditEntry.at >= since)
        if until is not None:
            statement = statement.where(AuditEntry.at < until)
        rows = list(self.session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(limit + 1)))
        next_cursor = rows[limit - 1].seq if len(rows) > limit else None
        return rows[:limit], next_cursor

    def for_candidate(self, candidate_id: uuid.UUID) -> list[AuditEntry]:
        """Every entry about one candidate, oldest first (for the art. 15 export)."""
        return list(
            self.session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.seq.in_(
                        select(AuditSubject.seq).where(AuditSubject.candidate_id == candidate_id)
                    )
                )
                .order_by(AuditEntry.seq)
            )
        )
