"""Writing audit entries: `record_access` (call it from every route whose response reveals a candidate).

Contract for routes (other modules rely on exactly this):

* Call `record_access(session, principal=..., request=..., action=..., object_type=..., object_id=...,
  subjects=[candidate ids], result="ok")` with the request's own session (`SessionDep`), once per response
  that reveals one or more candidates (a list response: ONE call listing every candidate in it). Call it as
  the last step before returning, after the data was read, so the entry and the read commit together: if the
  audit write fails, the request fails (fail closed) and nothing is returned.
* GET (and HEAD) routes that audit must be decorated with `@audited` (under `@router.get(...)`): on SQLite a
  GET's transaction otherwise begins DEFERRED, and a reader that later writes can fail on a busy snapshot
  under concurrency; `@audited` makes `service.deps.get_session` begin it IMMEDIATE (writers queue on
  busy_timeout). `record_access` refuses to run for an undecorated GET on SQLite so the mistake shows in the
  first test.
* `action` is `<object>.<verb>` from `AUDIT_ACTIONS` (add yours there); `object_type` the resource type
  (`candidate`, `vacancy`, `proposal`, `export`); `object_id` its id (or None for a list); `municipality` the
  municipality acted for (default: the candidate's when `subjects` is one candidate you pass via
  `municipality=`, else the caller's municipalities joined by `,`).

Serialisation: on PostgreSQL the chain head's row lock (`FOR UPDATE`, held to commit) makes appends linear,
with a transaction-level advisory lock for the first append to an empty log; on SQLite the IMMEDIATE write
transaction already serialises writers. Pending ORM changes are flushed before the lock is
taken so a request never waits for row locks while holding the audit lock (no lock-order deadlock).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from fastapi import Request
from sqlalchemy import ARRAY, Connection, Uuid, bindparam, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service.audit.chain import GENESIS_HASH, canonical_subjects, entry_hash
from service.audit.models import AuditChainHead, AuditEntry, AuditSubject
from service.auth.principal import Principal
from service.errors import ServiceError


class AuditUnavailable(ServiceError):
    """The audit entry could not be written: the request fails closed and reveals nothing."""

    status, type_, title = 503, "audit-unavailable", "Audit log unavailable"


logger = logging.getLogger("werkmatch.audit")

# Arbitrary constant key of the PostgreSQL advisory lock that serialises audit appends ("wm-audit").
AUDIT_LOCK_KEY = 0x776D2D6175646974

# Known actions. Keep this list in sync with the routes; the audit API accepts these as filters.
AUDIT_ACTIONS: tuple[str, ...] = (
    "candidate.create",
    "candidate.read",
    "candidate.list",
    "candidate.update",
    "candidate.delete",
    "candidate.erase",
    "candidate.export",
    "candidate.audit",
    "candidate.matches",
    "vacancy.matches",
    "audit.list",
    "proposal.create",
    "proposal.list",
    "proposal.update",
    "proposal.read",
    "retention.erase",
    "audit.prune",
)

_AUDITED_ATTRIBUTE = "__werkmatch_audited__"

F = TypeVar("F", bound=Callable[..., Any])


def audited(endpoint: F) -> F:
    """Mark a route that writes audit entries, so its session begins as a writer (matters for GET on
    SQLite)."""
    setattr(endpoint, _AUDITED_ATTRIBUTE, True)
    return endpoint


def is_audited(endpoint: object) -> bool:
    """Whether a route endpoint was marked with `@audited`."""
    return bool(getattr(endpoint, _AUDITED_ATTRIBUTE, False))


def _origin(request: Request | None) -> str | None:
    if request is None or request.client is None:
        return None
    return request.client.host[:64]


def _request_id(request: Request | None) -> str | None:
    if request is None:
        return None
    return getattr(request.state, "request_id", None)


# The append's statements, built once: Core statements on the tables, so an append (on every audited request)
# costs neither the ORM's bulk-persistence machinery nor building and cache-keying new statements each time.
_ENTRY, _SUBJECT, _HEAD = AuditEntry.__table__, AuditSubject.__table__, AuditChainHead.__table__
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_ENTRY = insert(_ENTRY)
_INSERT_SUBJECTS = insert(_SUBJECT)
_INSERT_HEAD = insert(_HEAD)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def _entry_param(column: Any) -> Any:
    return bindparam(f"entry_{column.name}", type_=column.type)


# PostgreSQL: the entry, its subjects and the new chain head in ONE statement (data-modifying CTEs; the
# subjects' foreign key is checked at the end of the statement, when the entry exists): one round trip
# instead of three. SQLite has no INSERT inside WITH, and its statements cost no round trip.
_APPEND_PG = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_entry_param(_ENTRY.c.seq), hash=_entry_param(_ENTRY.c.hash))
    .add_cte(insert(_ENTRY).values({c.name: _entry_param(c) for c in _ENTRY.columns}).cte("new_entry"))
    .add_cte(
        insert(_SUBJECT)
        .from_select(
            ["seq", "candidate_id"],
            select(_entry_param(_ENTRY.c.seq), func.unnest(bindparam("subject_ids", type_=ARRAY(Uuid())))),
        )
        .cte("new_subjects")
    )
)


def _lock_chain(connection: Connection) -> tuple[int, str] | None:
    """Serialise appends and return the chain head's (seq, hash) (None for an empty log).

    The head row's ``FOR UPDATE`` lock serialises appends (on PostgreSQL a waiting append then reads the
    head its predecessor committed; on SQLite the IMMEDIATE transaction already holds the write lock). Only
    an empty log has no row to lock: there the advisory lock serialises the racing first appends, and the
    head is read again under it (one of them may have committed it meanwhile). An append to an existing
    chain thus costs one statement, not two."""
    row = connection.execute(_READ_HEAD).one_or_none()
    if row is None and connection.dialect.name == "postgresql":
        connection.execute(_ADVISORY_LOCK, {"key": AUDIT_LOCK_KEY})
        row = connection.execute(_READ_HEAD).one_or_none()
    return None if row is None else (int(row.seq), str(row.hash))


def append_entry(
    session: Session,
    *,
    actor_key_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str | None,
    subjects: Sequence[uuid.UUID | str],
    result: str = "ok",
    municipality: str | None = None,
    origin: str | None = None,
    request_id: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the chain in the session's transaction (lower level than `record_access`; scripts
    such as retention use it with `actor_role="system"`)."""
    # Flush first: pending writes take their row locks now, before we hold the audit lock. Errors there belong
    # to the caller's own writes (e.g. a duplicate key) and keep their own meaning.
    session.flush()
    try:
        return _append(
            session,
            actor_key_id=actor_key_id,
            actor_role=actor_role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            subjects=subjects,
            result=result,
            municipality=municipality,
            origin=origin,
            request_id=request_id,
            at=at,
        )
    except SQLAlchemyError as exc:
        logger.error("audit write failed request_id=%s error=%s", request_id, type(exc).__name__)
        # Fail closed: the request's transaction rolls back, so the data read with it is never returned.
        raise AuditUnavailable(
            "The access could not be recorded in the audit log; nothing was returned."
        ) from exc


def _append(
    session: Session,
    *,
    actor_key_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str | None,
    subjects: Sequence[uuid.UUID | str],
    result: str,
    municipality: str | None,
    origin: str | None,
    request_id: str | None,
    at: datetime | None,
) -> AuditEntry:
    # The session's connection: the same transaction as the request's own reads and writes.
    connection = session.connection()
    head = _lock_chain(connection)
    previous_seq, previous_hash = head if head is not None else (0, GENESIS_HASH)
    fields: dict[str, Any] = {
        "seq": previous_seq + 1,
        # Microsecond precision, UTC: what both databases store and return unchanged.
        "at": (at or datetime.now(UTC)).astimezone(UTC),
        "actor_key_id": actor_key_id,
        "actor_role": actor_role,
        "municipality": municipality,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "subjects": canonical_subjects(subjects),
        "result": result,
        "origin": origin,
        "request_id": request_id,
        "prev_hash": previous_hash,
    }
    digest = entry_hash(fields)
    subject_ids = [uuid.UUID(s) for s in fields["subjects"]]
    if head is not None and connection.dialect.name == "postgresql":
        params = {f"entry_{name}": value for name, value in fields.items()}
        connection.execute(_APPEND_PG, {**params, "entry_hash": digest, "subject_ids": subject_ids})
        return _appended(session, fields, digest)
    connection.execute(_INSERT_ENTRY, [{**fields, "hash": digest}])
    if subject_ids:
        connection.execute(_INSERT_SUBJECTS, [{"seq": fields["seq"], "candidate_id": c} for c in subject_ids])
    if head is None:
        connection.execute(
            _INSERT_HEAD,
            [{"id": 1, "seq": fields["seq"], "hash": digest, "pruned_seq": 0, "pruned_hash": GENESIS_HASH}],
        )
    else:
        connection.execute(_MOVE_HEAD, {"new_seq": fields["seq"], "new_hash": digest})
    return _appended(session, fields, digest)


def _appended(session: Session, fields: dict[str, Any], digest: str) -> AuditEntry:
    # A chain head loaded as an object earlier in this transaction (retention) must not keep stale values.
    loaded = session.identity_map.get(session.identity_key(AuditChainHead, 1))
    if loaded is not None:
        session.expire(loaded)
    return AuditEntry(**fields, hash=digest)


def record_access(
    session: Session,
    *,
    principal: Principal,
    request: Request | None,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID | None,
    subjects: Sequence[uuid.UUID | str],
    result: str = "ok",
    municipality: str | None = None,
) -> AuditEntry:
    """Record that `principal` did `action` on `object_type`/`object_id` revealing the candidates in
    `subjects`.

    Uses the request's session: the entry commits with the request or not at all. Actor, origin (client
    address) and request id come from `principal` and `request`. See the module docstring for the full
    contract."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to service.audit.AUDIT_ACTIONS")
    if (
        request is not None
        and request.method in ("GET", "HEAD")
        and session.get_bind().dialect.name == "sqlite"
        and not is_audited(request.scope.get("endpoint"))
    ):
        raise RuntimeError(
            "a GET route that calls record_access must be decorated with @service.audit.audited"
        )
    if municipality is None and principal.municipalities:
        municipality = ",".join(sorted(principal.municipalities))
    return append_entry(
        session,
        actor_key_id=principal.key_id,
        actor_role=principal.role.value,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        subjects=subjects,
        result=result,
        municipality=municipality,
        origin=_origin(request),
        request_id=_request_id(request),
    )


class CandidateRef(Protocol):
    """What :func:`record_candidate_access` reads of a candidate (an ORM row or any object with these)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def municipality(self) -> str: ...


def record_candidate_access(
    session: Session, *, principal: Principal, request: Request | None, action: str, candidate: CandidateRef
) -> AuditEntry:
    """:func:`record_access` of a response about one candidate: the candidate is the object and the only
    subject, filed under its municipality."""
    return record_access(
        session,
        principal=principal,
        request=request,
        action=action,
        object_type="candidate",
        object_id=candidate.id,
        subjects=[candidate.id],
        municipality=candidate.municipality,
    )
