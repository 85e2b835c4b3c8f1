"""Taxonomy search for search-as-you-type in coach tools and employer portals (any authenticated role).

The same normaliser the engine uses (`matching.taxonomy`), over the shipped ESCO subset. Plain `def` routes:
the ranking is numpy work and runs in the threadpool.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from matching.taxonomy import Concept, load_taxonomy
from service.deps import PrincipalDep
from service.validation import bounded_text

router = APIRouter(prefix="/api/v1/taxonomy", tags=["taxonomy"])

Q = Annotated[bounded_text(200, min_length=1), Query(description="search text, 1-200 characters")]  # type: ignore[valid-type]
Lang = Annotated[Literal["nl", "de", "en"] | None, Query(description="language of the query and the labels")]
Limit = Annotated[int, Query(ge=1, le=50)]


class ConceptOut(BaseModel):
    """A taxonomy concept: ESCO occupation (`occupation`), ISCO group (`isco_group`) or skill (`skill`)."""

    uri: str
    label: str
    kind: str
    score: float


class ConceptPage(BaseModel):
    items: list[ConceptOut]


def _page(concepts: list[Concept]) -> ConceptPage:
    return ConceptPage(
        items=[ConceptOut(uri=c.uri, label=c.label, kind=c.kind, score=c.score) for c in concepts]
    )


@router.get("/occupations", response_model=ConceptPage)
def search_occupations(principal: PrincipalDep, q: Q, lang: Lang = None, limit: Limit = 10) -> ConceptPage:
    """ESCO occupations and ISCO groups ranked for a job title in Dutch, German or English."""
    return _page(load_taxonomy().search_occupations(q, lang=lang, limit=limit))


@router.get("/skills", response_model=ConceptPage)
def search_skills(principal: PrincipalDep, q: Q, lang: Lang = None, limit: Limit = 10) -> ConceptPage:
    """ESCO skills ranked for a competence label in Dutch, German or English."""
    return _page(load_taxonomy().search_skills(q, lang=lang, limit=limit))
