"""API keys: generated with `secrets`, shown once, stored as a SHA-256 digest (the key carries 256 bits of
entropy, so a plain digest is enough and lets the lookup use an index)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.principal import Principal, Role
from service.errors import InvalidInput
from service.persistence.models import ApiKey, Employer
from service.validation import MUNICIPALITY_RE

KEY_PREFIX = "wm_"


def digest_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key as created: the secret is only ever available here."""

    key: str
    key_id: str
    role: Role


def create_api_key(
    session: Session,
    *,
    role: Role,
    municipalities: list[str] | None = None,
    employer_name: str | None = None,
    label: str | None = None,
) -> IssuedKey:
    """Create a key for a role; a coach needs municipalities, an employer needs an employer (created when
    new)."""
    municipalities = sorted(set(municipalities or []))
    for code in municipalities:
        if not MUNICIPALITY_RE.fullmatch(code):
            raise InvalidInput(f"municipality must be a CBS code like GM0153, got {code!r}")
    employer_id = None
    if role is Role.COACH and not municipalities:
        raise InvalidInput("a coach key needs at least one --municipality")
    if role is not Role.COACH and municipalities:
        raise InvalidInput("only coach keys are bound to municipalities")
    if role is Role.EMPLOYER:
        if not employer_name or not employer_name.strip():
            raise InvalidInput("an employer key needs --employer NAME")
        employer_id = get_or_create_employer(session, employer_name.strip()).id
    elif employer_name:
        raise InvalidInput("only employer keys are bound to an employer")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        prefix=secret[:10],
        digest=digest_key(secret),
        role=role.value,
        label=label,
        employer_id=employer_id,
        municipalities=municipalities,
    )
    session.add(row)
    session.flush()
    return IssuedKey(key=secret, key_id=str(row.id), role=role)


def get_or_create_employer(session: Session, name: str) -> Employer:
    if len(name) > 200:
        raise InvalidInput("employer name is longer than 200 characters")
    employer = session.scalars(select(Employer).where(Employer.name == name)).one_or_none()
    if employer is None:
        employer = Employer(name=name)
        session.add(employer)
        session.flush()
    return employer


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of a presented key, or None for an unknown or revoked one."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    # Just the columns a principal needs (no ORM object, no identity map): this runs on every request.
    row = session.execute(
        select(ApiKey.id, ApiKey.role, ApiKey.municipalities, ApiKey.employer_id, ApiKey.revoked_at).where(
            ApiKey.digest == digest_key(key)
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(
        key_id=row.id,
        role=Role(row.role),
        municipalities=frozenset(row.municipalities or ()),
        employer_id=row.employer_id,
    )
