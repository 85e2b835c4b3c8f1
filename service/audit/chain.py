"""The hash chain: `hash = sha256(canonical JSON of the entry's fields, including prev_hash)`.

Canonical JSON: sorted keys, no whitespace, UTF-8, timestamps as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ` (SQLite
returns naive datetimes, PostgreSQL aware ones; both mean UTC here), subjects as a sorted list of lower-case
UUID strings. Changing any field of any entry changes its hash; removing an entry leaves a gap in `seq` and
breaks the next entry's `prev_hash` link; removing the newest entries disagrees with the chain-head row
(`audit_chain_head`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The fields covered by the hash, in the order they are documented; `hash` itself is of course not covered.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_key_id",
    "actor_role",
    "municipality",
    "action",
    "object_type",
    "object_id",
    "subjects",
    "result",
    "origin",
    "request_id",
    "prev_hash",
)


def canonical_time(value: datetime) -> str:
    """UTC with microseconds; naive values (SQLite) are UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_subjects(subjects: Iterable[Any]) -> list[str]:
    return sorted({str(subject).lower() for subject in subjects})


def entry_hash(fields: dict[str, Any]) -> str:
    """The sha256 hex digest of one entry's canonical JSON (the fields of `HASHED_FIELDS`)."""
    document = {}
    for name in HASHED_FIELDS:
        value = fields.get(name)
        if name == "at":
            value = canonical_time(value)
        elif name == "subjects":
            value = canonical_subjects(value or [])
        elif name == "actor_key_id" and value is not None:
            value = str(value).lower()
        document[name] = value
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break in the chain: the seq where it shows and what is wrong."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.problem}"


def verify_entries(
    rows: Iterable[Any], *, expected_first_prev: str | None = None, expected_first_seq: int = 1
) -> list[ChainProblem]:
    """Check rows (ordered by seq, attribute access) for edits, gaps and broken links.

    `expected_first_prev` / `expected_first_seq` anchor the start: the genesis hash and seq 1 for a complete
    log, or the hash and seq recorded when retention pruned older entries."""
    problems: list[ChainProblem] = []
    previous_hash = expected_first_prev if expected_first_prev is not None else GENESIS_HASH
    expected_seq = expected_first_seq
    for row in rows:
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                missing = (
                    f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}..{row.seq - 1}"
                )
                problems.append(ChainProblem(expected_seq, f"entries missing (seq {missing} deleted)"))
            else:
                problems.append(ChainProblem(row.seq, f"sequence out of order (expected {expected_seq})"))
        elif row.prev_hash != previous_hash:
            problems.append(ChainProblem(row.seq, "prev_hash does not link to the previous entry"))
        if entry_hash(fields) != row.hash:
            problems.append(ChainProblem(row.seq, "entry was altered (hash mismatch)"))
        previous_hash = row.hash
        expected_seq = row.seq + 1
    return problems


def verify_tail(
    *, last_seq: int | None, head_seq: int | None, head_hash: str | None, last_hash: str | None
) -> Sequence[ChainProblem]:
    """The newest entries cannot be checked by a following link; the chain-head row records them instead."""
    if head_seq is None:
        return [] if last_seq is None else [ChainProblem(last_seq, "chain head is missing")]
    if last_seq is None or last_seq < head_seq:
        first_missing = (last_seq or 0) + 1
        return [
            ChainProblem(
                first_missing, f"entries missing at the end (seq {first_missing}..{head_seq} deleted)"
            )
        ]
    if last_seq > head_seq or last_hash != head_hash:
        return [ChainProblem(last_seq, "chain head does not match the newest entry")]
    return []
