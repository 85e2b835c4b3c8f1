"""Verifying the whole chain (used by `werkmatch audit verify` and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.chain import GENESIS_HASH, ChainProblem, verify_entries, verify_tail
from service.audit.models import AuditChainHead, AuditEntry


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of a verification: entries checked, the head, and every problem found (empty when
    intact)."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(
    session: Session, *, batch_size: int = 5000, anchor: tuple[int, str] | None = None
) -> VerifyReport:
    """Walk the log in seq order (streamed in batches) and report every edited, removed or reordered entry.

    `anchor` (seq, hash), e.g. a head published earlier to a separate system, must still be in the chain: this
    catches a rewrite of the whole chain by someone who can also recompute hashes."""
    head = session.get(AuditChainHead, 1)
    first_prev, first_seq = (GENESIS_HASH, 1) if head is None else (head.pruned_hash, head.pruned_seq + 1)
    problems: list[ChainProblem] = []
    count = 0
    last_seq: int | None = None
    last_hash: str | None = None
    expected_prev, expected_seq = first_prev, first_seq
    anchor_seen = anchor is None
    after = first_seq - 1
    # A gap before the first survivor (entries deleted below the pruning point) shows as a missing seq.
    while True:
        rows = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch_size)
            )
        )
        if not rows:
            break
        problems.extend(
            verify_entries(rows, expected_first_prev=expected_prev, expected_first_seq=expected_seq)
        )
        for row in rows:
            if anchor is not None and row.seq == anchor[0]:
                anchor_seen = row.hash == anchor[1]
        count += len(rows)
        last_seq, last_hash = rows[-1].seq, rows[-1].hash
        expected_prev, expected_seq, after = last_hash, last_seq + 1, last_seq
    problems.extend(
        verify_tail(
            last_seq=last_seq,
            last_hash=last_hash,
            head_seq=None if head is None else head.seq,
            head_hash=None if head is None else head.hash,
        )
    )
    if head is not None and head.seq == head.pruned_seq and last_seq is None:
        problems.clear()  # everything was pruned: an empty, consistent log
    if not anchor_seen and anchor is not None:
        problems.append(ChainProblem(anchor[0], "the anchor entry is missing or differs (chain rewritten?)"))
    return VerifyReport(
        entries=count,
        head_seq=0 if head is None else head.seq,
        head_hash=GENESIS_HASH if head is None else head.hash,
        problems=problems,
    )
