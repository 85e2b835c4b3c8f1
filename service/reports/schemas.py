"""Response model of `GET /reports/outcomes`: counts only, no person data."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OutcomeCounts(BaseModel):
    """Proposals in a group and how far they got (`placements` = proposals that ended in `hired`)."""

    key: str
    proposals: int
    proposed: int
    interview: int
    hired: int
    rejected: int
    placements: int


class Indicators(BaseModel):
    """The programme's indicators."""

    uitstroom_naar_werk: int = Field(description="distinct candidates hired through a proposal")
    plaatsingen_zorg: int
    plaatsingen_ict: int
    plaatsingen_duitsland: int = Field(description="hires on vacancies in Germany (GrensWerk)")
    candidates_placed: int = Field(description="candidates with status `placed`, via a proposal or otherwise")


class OutcomeReport(BaseModel):
    scope: list[str] | None = Field(description="the municipalities counted; null = the whole installation")
    totals: OutcomeCounts
    by_sector: list[OutcomeCounts]
    by_municipality: list[OutcomeCounts]
    by_country: list[OutcomeCounts]
    indicators: Indicators
