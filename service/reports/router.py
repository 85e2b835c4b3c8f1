"""Report routes: aggregates only (coach: own municipalities; admin: the whole installation)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from service.auth.principal import Principal, Role
from service.deps import SessionDep, require_roles
from service.reports.operations import outcome_report
from service.reports.schemas import OutcomeReport

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

CoachOrAdmin = Annotated[Principal, require_roles(Role.COACH, Role.ADMIN)]


@router.get("/outcomes", response_model=OutcomeReport)
def outcomes(session: SessionDep, principal: CoachOrAdmin) -> OutcomeReport:
    """Proposals and placements per sector, municipality and country, with the programme's indicators."""
    return outcome_report(session, principal)
