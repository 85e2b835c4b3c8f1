"""Match routes (coach) and the algorithm documentation: thin, one operation each.

Plain ``def`` routes: scoring runs in the threadpool, never on the event loop. The live index is refreshed by
a dependency declared BEFORE the session, so polling (or the first build) never happens while the request
holds a database transaction (an audited GET holds SQLite's write lock).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from matching.types import MatchFilters
from service.audit import audited, record_access, record_candidate_access
from service.deps import CoachDep, PrincipalDep, SessionDep
from service.matches import operations
from service.matches.live import LiveIndex, get_live_index
from service.matches.schemas import AlgorithmPage, CandidateMatchPage, Source, VacancyMatchPage
from service.validation import Country, Sector

router = APIRouter(prefix="/api/v1", tags=["matches"])


def fresh_live_index(request: Request) -> LiveIndex:
    """The app's live index, built on first use and brought up to date with committed changes."""
    index = get_live_index(request.app)
    index.ensure_fresh()
    return index


async def live_index_dependency(request: Request, after_response: BackgroundTasks) -> LiveIndex:
    """:func:`fresh_live_index` as a route dependency. Async: most requests find the index fresh and need no
    worker thread for this; a build or poll (database reads) runs in the threadpool. A periodic poll that is
    due but not overdue runs after the response (``LiveIndex.fresh_enough``), not before it."""
    index = get_live_index(request.app)
    if index.is_fresh():
        return index
    if index.fresh_enough():
        after_response.add_task(index.poll_if_due)
    else:
        await run_in_threadpool(index.ensure_fresh)
    return index


LiveDep = Annotated[LiveIndex, Depends(live_index_dependency)]
Limit = Annotated[int, Query(ge=1, le=operations.MAX_LIMIT, description="at most 200 results")]
MaxKm = Annotated[float | None, Query(ge=0, le=1000)]
MinScore = Annotated[float | None, Query(ge=0, le=100)]
SourceQuery = Annotated[Source, Query(description="`live` (default) or `batch`: the published nightly run")]


async def match_filters(
    sector: Sector | None = None,
    country: Country | None = None,
    max_km: MaxKm = None,
    min_score: MinScore = None,
) -> MatchFilters:
    """The optional filters both match routes share, as the engine's filter object (async: pure, so no worker
    thread is taken for it)."""
    return MatchFilters(sector=sector, country=country, max_km=max_km, min_score=min_score)


FiltersDep = Annotated[MatchFilters, Depends(match_filters)]


def json_response(fields: dict[str, Any]) -> Response:
    """A page the operation built as plain data, serialised once, here in the worker thread.

    Returning a ``Response`` skips FastAPI's pass over the route's return value (validating the page in
    another threadpool hop, then serialising it on the event loop); ``response_model`` still documents the
    body, and :func:`operations.page_json` gives the bytes the page model would give.
    """
    return Response(operations.page_json(fields), media_type="application/json")


@router.get("/candidates/{candidate_id}/matches", response_model=VacancyMatchPage)
@audited
def candidate_matches(
    candidate_id: uuid.UUID,
    live: LiveDep,
    request: Request,
    session: SessionDep,
    principal: CoachDep,
    filters: FiltersDep,
    limit: Limit = 50,
    source: SourceQuery = "live",
) -> Response:
    """Open vacancies ranked for one of the coach's own candidates, with per-factor explanations."""
    page, candidate = operations.candidate_matches_fields(
        session,
        principal,
        candidate_id,
        live=live,
        limit=limit,
        source=source,
        filters=filters,
    )
    record_candidate_access(
        session, principal=principal, request=request, action="candidate.matches", candidate=candidate
    )
    return json_response(page)


@router.get("/vacancies/{vacancy_id}/matches", response_model=CandidateMatchPage)
@audited
def vacancy_matches(
    vacancy_id: uuid.UUID,
    live: LiveDep,
    request: Request,
    session: SessionDep,
    principal: CoachDep,
    filters: FiltersDep,
    limit: Limit = 50,
    source: SourceQuery = "live",
) -> Response:
    """Active candidates of the coach's own municipalities ranked for a vacancy (names shown: coach only)."""
    page = operations.vacancy_matches_fields(
        session,
        principal,
        vacancy_id,
        live=live,
        limit=limit,
        source=source,
        filters=filters,
    )
    # One entry per response naming every candidate it reveals (also when the list is empty).
    record_access(
        session,
        principal=principal,
        request=request,
        action="vacancy.matches",
        object_type="vacancy",
        object_id=vacancy_id,
        subjects=[i["candidate"]["id"] for i in page["items"]],
    )
    return json_response(page)


@router.get("/algorithms", response_model=AlgorithmPage)
def algorithms(principal: PrincipalDep) -> AlgorithmPage:
    """The factors, weights, thresholds and versions of the ranking algorithms (the default is marked)."""
    return AlgorithmPage(items=operations.describe_algorithms())
