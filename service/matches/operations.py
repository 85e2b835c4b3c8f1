"""Match use cases: rank the other side for one candidate or one vacancy, live or from the published batch
run.

Authorization first: the subject must be readable by the caller (a coach's own candidate; any vacancy for a
coach), else 404. A vacancy→candidate ranking only ever contains candidates of the coach's own municipalities
(the live index keeps one candidate index per municipality; stored batch rankings are filtered through the
scoped query).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic_core
from sqlalchemy.orm import Session

from matching.algorithms import FACTOR_ORDER, AlgorithmConfig, get_algorithm, list_algorithms
from matching.factors import FACTORS
from matching.types import MatchFilters, MatchResult
from service.auth.principal import Principal
from service.candidates.repository import CandidateRepository
from service.errors import NotFound
from service.matches import mapping
from service.matches.live import LiveIndex
from service.matches.repository import MatchRepository
from service.matches.schemas import (
    AlgorithmOut,
    AlgorithmRef,
    CandidateMatchPage,
    CandidateSummary,
    FactorDoc,
    Source,
    VacancyMatchPage,
)
from service.persistence.models import Candidate
from service.vacancies.repository import VacancyRepository

#: The most results one request returns (and the most stored batch results read for one subject).
MAX_LIMIT = 200
C2V, V2C = "c2v", "v2c"


@dataclass(frozen=True, slots=True)
class Ranked:
    """One ranked result; ``changed_since_run`` only for stored batch results."""

    result: MatchResult
    changed_since_run: bool | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    items: list[Ranked]
    algorithm: AlgorithmRef
    run_id: uuid.UUID | None


def _algorithm_ref(config: AlgorithmConfig) -> AlgorithmRef:
    return AlgorithmRef(name=config.name, version=config.version)


def _item_fields(ranked: Ranked) -> dict[str, Any]:
    """A result's fields of a match item, as plain data in the order of ``_MatchItem``'s fields (see
    :func:`page_json`). The engine's ``Unmet`` and ``FactorExplanation`` dataclasses go in as they are: their
    fields are ``UnmetOut``'s and ``FactorOut``'s, in the same order and with the same types, so they
    serialise to the same JSON (and validate with ``from_attributes``)."""
    r = ranked.result
    return {
        "score": float(r.score),
        "rank": int(r.rank),
        "distance_km": float(r.distance_km),
        "unmet": r.unmet,
        "explanation": r.explanation,
        "changed_since_run": ranked.changed_since_run,
    }


def _page_fields(
    *,
    subject: tuple[str, uuid.UUID],
    items: list[dict[str, Any]],
    algorithm: AlgorithmRef,
    source: Source,
    run_id: uuid.UUID | None,
    limit: int,
) -> dict[str, Any]:
    """A match page as plain data, keys in the order of the page model's fields (``_MatchPage`` first)."""
    return {
        "algorithm": {"name": algorithm.name, "version": algorithm.version},
        "source": source,
        "run_id": run_id,
        "limit": limit,
        subject[0]: subject[1],
        "items": items,
    }


def page_json(fields: dict[str, Any]) -> bytes:
    """The JSON body of a page built by :func:`candidate_matches_fields` / :func:`vacancy_matches_fields`.

    The same bytes as validating the page model and serialising it
    (tests/service/test_match_response_fast_path.py checks this): the fields come from typed columns and the
    engine's results and are laid out in the models' field order, so validating 50 items with their
    explanations again (about 2 ms per request) bought nothing. The models stay the documented response schema
    and what other callers get.
    """
    return pydantic_core.to_json(fields)


def _candidate_summary_fields(candidate: Any) -> dict[str, Any]:
    """What a coach sees of an own candidate in a ranking (never the BSN or special-category data), from a
    ``Candidate`` or a ``MatchRepository.candidates`` row."""
    return {
        "id": candidate.id,
        "external_ref": candidate.external_ref,
        "municipality": candidate.municipality,
        "given_name": candidate.given_name,
        "family_name": candidate.family_name,
        "postcode": candidate.postcode,
        "country": candidate.country,
        "education_level": candidate.education_level,
        "hours_min": candidate.hours_min,
        "hours_max": candidate.hours_max,
        "status": candidate.status,
    }


def candidate_summary(candidate: Candidate) -> CandidateSummary:
    """What a coach sees of an own candidate in a ranking (never the BSN or special-category data)."""
    return CandidateSummary.model_validate(_candidate_summary_fields(candidate))


# --------------------------------------------------------------------------------------------------- batch
def _batch_store() -> Any:
    """The batch module's store (it owns the stored rankings); imported lazily: modules stay decoupled."""
    from service.batch import store

    return store


def _stored_ranking(
    session: Session,
    *,
    direction: str,
    subject_id: uuid.UUID,
    live: LiveIndex,
    rescore: Callable[[list[str]], dict[str, MatchResult]],
) -> tuple[list[Ranked], AlgorithmRef, uuid.UUID | None]:
    """The published run's ranking of one subject, each result re-explained from the current profiles.

    Explanations are not stored (CONVENTIONS.md: built lazily for what is shown). A result is re-explained
    only when today's score under the same algorithm equals the stored one; otherwise the profiles changed
    after the run and the item says so (``changed_since_run``) instead of showing an explanation that does not
    add up.
    """
    run, stored = _batch_store().read_published_matches(
        session, direction=direction, subject_id=subject_id, limit=MAX_LIMIT
    )
    if run is None:
        return [], _algorithm_ref(live.engine.algorithm), None
    same_algorithm = (run.algorithm, run.algorithm_version) == (
        live.engine.algorithm.name,
        live.engine.algorithm.version,
    )
    rescored = rescore([str(s.other_id) for s in stored]) if same_algorithm else {}
    items: list[Ranked] = []
    for s in stored:
        other = str(s.other_id)
        now = rescored.get(other)
        if now is not None and round(now.score * 100) == round(float(s.score) * 100):
            result = MatchResult(
                id=other,
                score=float(s.score),
                rank=int(s.rank),
                distance_km=float(s.distance_km),
                unmet=now.unmet,
                explanation=now.explanation,
            )
            items.append(Ranked(result, changed_since_run=False))
        else:
            result = MatchResult(
                id=other, score=float(s.score), rank=int(s.rank), distance_km=float(s.distance_km)
            )
            items.append(Ranked(result, changed_since_run=True))
    return items, AlgorithmRef(name=run.algorithm, version=run.algorithm_version), run.id


def _filter_stored(
    items: Sequence[Ranked],
    *,
    filters: MatchFilters,
    sector_country: Callable[[str], tuple[set[str], str] | None],
) -> list[Ranked]:
    """Apply the request's filters to stored results (the live engine applies them itself)."""
    out: list[Ranked] = []
    for item in items:
        r = item.result
        known = sector_country(r.id)
        if known is None:
            continue  # no longer readable (or gone)
        sectors, country = known
        if filters.sector is not None and filters.sector not in sectors:
            continue
        if filters.country is not None and filters.country != country:
            continue
        if filters.max_km is not None and r.distance_km > filters.max_km:
            continue
        if filters.min_score is not None and r.score < filters.min_score:
            continue
        out.append(item)
    return out


def _renumber(items: list[Ranked], limit: int) -> list[Ranked]:
    return [
        Ranked(
            MatchResult(
                id=i.result.id,
                score=i.result.score,
                rank=n + 1,
                distance_km=i.result.distance_km,
                unmet=i.result.unmet,
                explanation=i.result.explanation,
            ),
            i.changed_since_run,
        )
        for n, i in enumerate(items[:limit])
    ]


# ----------------------------------------------------------------------------------------------- use cases
def candidate_matches(
    session: Session,
    principal: Principal,
    candidate_id: uuid.UUID,
    *,
    live: LiveIndex,
    limit: int,
    filters: MatchFilters,
    source: Source,
) -> tuple[VacancyMatchPage, Candidate]:
    """Open vacancies for one of the coach's own candidates. Returns the page and the candidate (for the
    audit)."""
    fields, candidate = candidate_matches_fields(
        session, principal, candidate_id, live=live, limit=limit, filters=filters, source=source
    )
    return VacancyMatchPage.model_validate(fields, from_attributes=True), candidate


def candidate_matches_fields(
    session: Session,
    principal: Principal,
    candidate_id: uuid.UUID,
    *,
    live: LiveIndex,
    limit: int,
    filters: MatchFilters,
    source: Source,
) -> tuple[dict[str, Any], Candidate]:
    """:func:`candidate_matches` as plain data for :func:`page_json` (the route's fast path)."""
    candidate = CandidateRepository(session).get(principal, candidate_id)
    if candidate is None:
        raise NotFound()
    features = mapping.candidate_features(candidate)
    repo = MatchRepository(session)
    if source == "live":
        ranked = [Ranked(r) for r in live.rank_vacancies(features, limit=limit, filters=filters)]
        algorithm, run_id = _algorithm_ref(live.engine.algorithm), None
        vacancies = repo.live_vacancies(principal, [r.result.id for r in ranked], live.vacancy_summaries())
    else:
        stored, algorithm, run_id = _stored_ranking(
            session,
            direction=C2V,
            subject_id=candidate.id,
            live=live,
            rescore=lambda ids: live.rescore_vacancies(features, ids),
        )
        vacancies = repo.vacancies(principal, [r.result.id for r in stored])
        ranked = _renumber(
            _filter_stored(
                stored,
                filters=filters,
                sector_country=lambda i: (
                    ({vacancies[i]["sector"]}, vacancies[i]["country"]) if i in vacancies else None
                ),
            ),
            limit,
        )
    items = [
        {**_item_fields(r), "vacancy": v} for r in ranked if (v := vacancies.get(r.result.id)) is not None
    ]
    fields = _page_fields(
        subject=("candidate_id", candidate.id),
        items=items,
        algorithm=algorithm,
        source=source,
        run_id=run_id,
        limit=limit,
    )
    return fields, candidate


def vacancy_matches(
    session: Session,
    principal: Principal,
    vacancy_id: uuid.UUID,
    *,
    live: LiveIndex,
    limit: int,
    filters: MatchFilters,
    source: Source,
) -> CandidateMatchPage:
    """Active candidates of the coach's own municipalities for a readable vacancy, best first."""
    return CandidateMatchPage.model_validate(
        vacancy_matches_fields(
            session, principal, vacancy_id, live=live, limit=limit, filters=filters, source=source
        ),
        from_attributes=True,
    )


def vacancy_matches_fields(
    session: Session,
    principal: Principal,
    vacancy_id: uuid.UUID,
    *,
    live: LiveIndex,
    limit: int,
    filters: MatchFilters,
    source: Source,
) -> dict[str, Any]:
    """:func:`vacancy_matches` as plain data for :func:`page_json` (the route's fast path)."""
    vacancy = VacancyRepository(session).get(principal, vacancy_id)
    if vacancy is None or not principal.is_coach:
        raise NotFound()
    features = mapping.vacancy_features(vacancy)
    repo = MatchRepository(session)
    if source == "live":
        ranked = [
            Ranked(r)
            for r in live.rank_candidates(
                features, municipalities=principal.municipalities, limit=limit, filters=filters
            )
        ]
        algorithm, run_id = _algorithm_ref(live.engine.algorithm), None
        candidates = repo.candidates(principal, [r.result.id for r in ranked])
    else:
        stored, algorithm, run_id = _stored_ranking(
            session,
            direction=V2C,
            subject_id=vacancy.id,
            live=live,
            rescore=lambda ids: live.rescore_candidates(features, ids),
        )
        # The stored ranking spans every municipality: keep only what this coach may read.
        candidates = repo.candidates(principal, [r.result.id for r in stored])
        ranked = _renumber(
            _filter_stored(
                stored,
                filters=filters,
                sector_country=lambda i: (
                    (set(candidates[i].sectors or ()), candidates[i].country) if i in candidates else None
                ),
            ),
            limit,
        )
    items = [
        {**_item_fields(r), "candidate": _candidate_summary_fields(c)}
        for r in ranked
        if (c := candidates.get(r.result.id)) is not None
    ]
    return _page_fields(
        subject=("vacancy_id", vacancy.id),
        items=items,
        algorithm=algorithm,
        source=source,
        run_id=run_id,
        limit=limit,
    )


# ------------------------------------------------------------------------------------------------ algorithms
_UNMET_RULE = (
    "Een niet vervulde harde eis (reisafstand/werkland, taalniveau, rijbewijs, certificaat) vermenigvuldigt "
    "de score "
    "met unmet_multiplier per eis; zulke resultaten staan na alle resultaten die aan de eisen voldoen, maar "
    "worden "
    "wel getoond. Garantiebanen worden alleen aangeboden aan kandidaten in het doelgroepregister; dat "
    "gegeven "
    "verandert nooit een score."
)


def _factor_description(name: str) -> str:
    doc = (FACTORS[name].__doc__ or "").strip()
    return " ".join(doc.split())


def describe_algorithms() -> list[AlgorithmOut]:
    """Every registered algorithm with its factors (weight and description), thresholds and version."""
    default = get_algorithm()
    out: list[AlgorithmOut] = []
    for config in list_algorithms():
        data = config.to_dict()
        out.append(
            AlgorithmOut(
                name=config.name,
                version=config.version,
                default=config.key == default.key,
                factors=[
                    FactorDoc(name=f, weight=config.weights[f], description=_factor_description(f))
                    for f in FACTOR_ORDER
                ],
                weights=data["weights"],
                thresholds=data["thresholds"],
                unmet_rule=_UNMET_RULE,
            )
        )
    return out
