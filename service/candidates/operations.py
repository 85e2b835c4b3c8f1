"""Candidate use cases: business rules only; the request's session commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.candidates.repository import CandidateRepository
from service.candidates.schemas import CandidateIn
from service.concurrency import check_version
from service.errors import Conflict, NotFound
from service.location import location_postcode, resolve_postcode
from service.persistence.models import Candidate
from service.privacy import bsn_lookup_hash, encrypt_bsn


def _check_municipality(principal: Principal, municipality: str) -> None:
    if municipality not in principal.municipalities:
        # A coach writes only for own municipalities; answer as if the target does not exist.
        raise NotFound("You do not act for this municipality.")


def _apply(candidate: Candidate, data: CandidateIn, *, secret: str) -> None:
    location = resolve_postcode(data.postcode, data.country)
    payload: dict[str, Any] = data.model_dump(exclude={"bsn", "languages"})
    payload["postcode"] = location_postcode(data.postcode, data.country)
    payload["languages"] = data.languages.model_dump(exclude_none=True)
    for key, value in payload.items():
        setattr(candidate, key, value)
    candidate.lat, candidate.lon = location.lat, location.lon
    if data.bsn is not None:
        candidate.bsn_encrypted = encrypt_bsn(data.bsn, secret=secret)
        candidate.bsn_hash = bsn_lookup_hash(data.bsn, secret=secret)


def create_candidate(session: Session, principal: Principal, data: CandidateIn, *, secret: str) -> Candidate:
    _check_municipality(principal, data.municipality)
    repo = CandidateRepository(session)
    if repo.find_by_ref(municipality=data.municipality, external_ref=data.external_ref) is not None:
        raise Conflict(f"A candidate with external_ref {data.external_ref!r} exists in {data.municipality}.")
    candidate = Candidate()
    _apply(candidate, data, secret=secret)
    try:
        return repo.add(candidate)
    except IntegrityError as exc:  # a concurrent create of the same client number
        raise Conflict(
            f"A candidate with external_ref {data.external_ref!r} exists in {data.municipality}."
        ) from exc


def get_candidate(session: Session, principal: Principal, candidate_id: uuid.UUID) -> Candidate:
    candidate = CandidateRepository(session).get(principal, candidate_id)
    if candidate is None:
        raise NotFound()
    return candidate


def list_candidates(session: Session, principal: Principal, **filters: Any) -> tuple[list[Candidate], int]:
    """A page of the coach's own candidates and the total (filters: limit, offset, status, municipality,
    sector, q)."""
    return CandidateRepository(session).list(principal, **filters)


def replace_candidate(
    session: Session,
    principal: Principal,
    candidate_id: uuid.UUID,
    data: CandidateIn,
    *,
    expected_version: int | None,
    secret: str,
) -> Candidate:
    repo = CandidateRepository(session)
    candidate = get_candidate(session, principal, candidate_id)
    check_version(expected=expected_version, actual=candidate.version)
    _check_municipality(principal, data.municipality)
    if (data.municipality, data.external_ref) != (candidate.municipality, candidate.external_ref):
        other = repo.find_by_ref(municipality=data.municipality, external_ref=data.external_ref)
        if other is not None and other.id != candidate.id:
            raise Conflict(
                f"A candidate with external_ref {data.external_ref!r} exists in {data.municipality}."
            )
    _apply(candidate, data, secret=secret)
    repo.touch(candidate)
    return candidate


def delete_candidate(session: Session, principal: Principal, candidate_id: uuid.UUID) -> None:
    candidate = get_candidate(session, principal, candidate_id)
    CandidateRepository(session).delete(candidate)
