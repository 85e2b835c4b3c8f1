"""Retention: erase candidates inactive for `WERKMATCH_RETENTION_DAYS`, purge old idempotency records, and
prune audit entries older than `WERKMATCH_AUDIT_RETENTION_DAYS` (never younger than 183 days, the BIO
minimum).

Pruning keeps the chain verifiable: only a prefix of the chain is removed, the chain head records the last
pruned entry's seq and hash as the new anchor, and an `audit.prune` entry records the pruning itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.audit.models import AuditChainHead, AuditEntry
from service.audit.recorder import append_entry
from service.gdpr.erasure import erase_candidate
from service.persistence.models import Candidate
from service.security.models import IdempotencyRecord

MIN_AUDIT_RETENTION_DAYS = 183
IDEMPOTENCY_TTL = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    erased_candidates: int
    pruned_audit_entries: int
    purged_idempotency_records: int
    dry_run: bool


def _inactive_before(session: Session, cutoff: datetime) -> list[Candidate]:
    return list(
        session.scalars(
            select(Candidate)
            .where(Candidate.status == "inactive", Candidate.updated_at < cutoff)
            .order_by(Candidate.updated_at, Candidate.id)
        )
    )


def _prune_audit(session: Session, cutoff: datetime, *, dry_run: bool) -> int:
    """Remove the chain prefix older than `cutoff`: every seq below the oldest entry that must stay."""
    head = session.get(AuditChainHead, 1)
    if head is None:
        return 0
    first_kept = session.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff))
    last_pruned = head.seq if first_kept is None else first_kept - 1
    if last_pruned <= head.pruned_seq:
        return 0
    anchor = session.get(AuditEntry, last_pruned)
    count = (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= last_pruned)) or 0
    )
    if dry_run or anchor is None:
        return int(count)
    session.execute(delete(AuditEntry).where(AuditEntry.seq <= last_pruned))
    head.pruned_seq, head.pruned_hash = anchor.seq, anchor.hash
    session.flush()
    append_entry(
        session,
        actor_key_id=None,
        actor_role="system",
        action="audit.prune",
        object_type="audit_entry",
        object_id=str(last_pruned),
        subjects=[],
        result=f"pruned {count}",
    )
    return int(count)


def run_retention(
    session: Session,
    *,
    retention_days: int | None,
    audit_retention_days: int,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """One retention pass in the caller's transaction (the CLI commits it)."""
    if audit_retention_days < MIN_AUDIT_RETENTION_DAYS:
        raise ValueError(f"audit entries are kept at least {MIN_AUDIT_RETENTION_DAYS} days")
    now = now or datetime.now(UTC)
    erased = 0
    if retention_days is not None:
        candidates = _inactive_before(session, now - timedelta(days=retention_days))
        erased = len(candidates)
        if candidates and not dry_run:
            subjects = [c.id for c in candidates]
            for candidate in candidates:
                erase_candidate(session, candidate, reason="retention")
            append_entry(
                session,
                actor_key_id=None,
                actor_role="system",
                action="retention.erase",
                object_type="candidate",
                object_id=None,
                subjects=subjects,
                result=f"erased {erased}",
            )
    pruned = _prune_audit(session, now - timedelta(days=audit_retention_days), dry_run=dry_run)
    old = IdempotencyRecord.created_at < now - IDEMPOTENCY_TTL
    purged = int(session.scalar(select(func.count()).select_from(IdempotencyRecord).where(old)) or 0)
    if not dry_run:
        session.execute(delete(IdempotencyRecord).where(old))
    return RetentionReport(
        erased_candidates=erased,
        pruned_audit_entries=pruned,
        purged_idempotency_records=purged,
        dry_run=dry_run,
    )
