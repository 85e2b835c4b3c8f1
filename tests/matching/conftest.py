"""Builders and taxonomies for engine tests.

``small_taxonomy`` is a dictionary-backed stand-in with the taxonomy's interface, so that factor tables are
exact and independent of the shipped ESCO data; ``real_engine`` uses the shipped taxonomy (loaded once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pytest

from matching.engine import MatchEngine
from matching.types import CandidateFeatures, ConceptRef, Experience, VacancyFeatures

ALMELO = (52.3455, 6.6715)  # PC4 7601
ENSCHEDE = (52.22, 6.9001)  # PC4 7511
GRONAU = (52.2012, 7.0409)  # PLZ 48599


@dataclass(frozen=True, slots=True)
class Concept:
    uri: str
    label: str
    kind: str
    score: float


class SmallTaxonomy:
    """Exact-label taxonomy: skills and occupations with ISCO codes, profiles and related skills."""

    def __init__(
        self,
        *,
        skills: Mapping[str, str],
        occupations: Mapping[str, tuple[str, str]],
        profiles: Mapping[str, Sequence[str]],
        related: Mapping[str, Sequence[str]],
    ) -> None:
        self._skills = {label.lower(): uri for uri, label in skills.items()}
        self._skill_label = dict(skills)
        self._occ = {label.lower(): uri for uri, (label, _isco) in occupations.items()}
        self._occ_label = {uri: label for uri, (label, _isco) in occupations.items()}
        self._isco = {uri: isco for uri, (_label, isco) in occupations.items()}
        self._profiles = profiles
        self._related = related

    def resolve_skill(self, *, code: str | None, label: str) -> Concept:
        if code and code in self._skill_label:
            return Concept(code, self._skill_label[code], "skill", 1.0)
        uri = self._skills.get(label.strip().lower())
        if uri is None:
            return Concept("text:" + " ".join(label.lower().split()), label, "text", 0.0)
        return Concept(uri, label, "skill", 1.0)

    def resolve_occupation(self, *, code: str | None, label: str) -> Concept:
        uri = self._occ.get(label.strip().lower())
        if uri is None:
            return Concept("text:" + " ".join(label.lower().split()), label, "text", 0.0)
        return Concept(uri, label, "occupation", 1.0)

    def isco_code(self, occupation_uri: str) -> str | None:
        return self._isco.get(occupation_uri)

    def occupation_skills(self, occupation_uri: str) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(self._profiles.get(occupation_uri, ())), frozenset()

    def related_skills(self, skill_uri: str) -> frozenset[str]:
        return frozenset(self._related.get(skill_uri, ()))

    def extract_skills(self, text: str, *, limit: int = 50) -> list[Concept]:
        found = [Concept(uri, lab, "skill", 1.0) for lab, uri in self._skills.items() if lab in text.lower()]
        return found[:limit]

    def label(self, uri: str, *, lang: str = "nl") -> str:
        return self._skill_label.get(uri) or self._occ_label.get(uri) or uri


SKILLS = {
    "s:reachtruck": "reachtruck besturen",
    "s:heftruck": "heftruck besturen",
    "s:orderpicken": "orders verzamelen",
    "s:voorraad": "voorraad bijhouden",
    "s:laden": "goederen laden",
    "s:zorg": "persoonlijke verzorging",
    "s:hygiene": "hygiëne bewaken",
    "s:python": "Python",
    "s:git": "Git",
    "s:sql": "SQL",
}
OCCUPATIONS = {
    "o:reachtruck": ("reachtruckchauffeur", "8344"),
    "o:heftruck": ("heftruckchauffeur", "8344"),
    "o:magazijn": ("magazijnmedewerker", "4321"),
    "o:expeditie": ("expeditiemedewerker", "4323"),
    "o:helpende": ("helpende zorg", "5322"),
    "o:developer": ("softwareontwikkelaar", "2512"),
    "o:dba": ("databasebeheerder", "2521"),
}
PROFILES = {
    "o:reachtruck": ("s:reachtruck", "s:heftruck", "s:laden", "s:voorraad"),
    "o:heftruck": ("s:heftruck", "s:laden"),
    "o:magazijn": ("s:orderpicken", "s:voorraad", "s:laden"),
    "o:helpende": ("s:zorg", "s:hygiene"),
    "o:developer": ("s:python", "s:git", "s:sql"),
}
RELATED = {"s:heftruck": ("s:reachtruck",), "s:reachtruck": ("s:heftruck",)}


@pytest.fixture(scope="session")
def small_taxonomy() -> SmallTaxonomy:
    return SmallTaxonomy(skills=SKILLS, occupations=OCCUPATIONS, profiles=PROFILES, related=RELATED)


@pytest.fixture(scope="session")
def engine(small_taxonomy: SmallTaxonomy) -> MatchEngine:
    return MatchEngine(taxonomy=small_taxonomy)


@pytest.fixture(scope="session")
def real_taxonomy():  # type: ignore[no-untyped-def]
    from matching.taxonomy import load_taxonomy

    return load_taxonomy()


@pytest.fixture(scope="session")
def real_engine(real_taxonomy) -> MatchEngine:  # type: ignore[no-untyped-def]
    return MatchEngine(taxonomy=real_taxonomy)


def refs(*labels: str) -> tuple[ConceptRef, ...]:
    return tuple(ConceptRef(code=None, label=label) for label in labels)


def make_candidate(
    *,
    id: str = "cand-1",  # noqa: A002
    competences: Sequence[str] = ("reachtruck besturen", "goederen laden"),
    desired: Sequence[str] = ("reachtruckchauffeur",),
    experience: Sequence[tuple[str, float]] = (),
    education_level: str | None = "mbo2",
    languages: Mapping[str, str] | None = None,
    at: tuple[float, float] = ALMELO,
    country: str = "NL",
    max_travel_km: int = 25,
    hours: tuple[int, int] = (24, 40),
    driving_licences: Sequence[str] = ("B",),
    certificates: Sequence[str] = (),
    work_countries: Sequence[str] = ("NL",),
    sectors: Sequence[str] = ("logistiek",),
    target_group_register: bool = False,
) -> CandidateFeatures:
    return CandidateFeatures(
        id=id,
        competences=refs(*competences),
        desired_occupations=refs(*desired),
        experience=tuple(Experience(ConceptRef(None, label), years) for label, years in experience),
        education_level=education_level,
        languages=dict(languages if languages is not None else {"nl": "2F"}),
        lat=at[0],
        lon=at[1],
        country=country,
        max_travel_km=max_travel_km,
        hours_min=hours[0],
        hours_max=hours[1],
        driving_licences=frozenset(driving_licences),
        certificates=frozenset(certificates),
        work_countries=frozenset(work_countries),
        sectors=frozenset(sectors),
        target_group_register=target_group_register,
    )


def make_vacancy(
    *,
    id: str = "vac-1",  # noqa: A002
    title: str = "reachtruckchauffeur",
    description: str = "",
    occupation: str | None = "reachtruckchauffeur",
    sector: str = "logistiek",
    required: Sequence[str] = ("reachtruck besturen", "goederen laden"),
    desired: Sequence[str] = (),
    education_level_min: str | None = None,
    languages_required: Mapping[str, str] | None = None,
    driving_licences_required: Sequence[str] = (),
    certificates_required: Sequence[str] = (),
    at: tuple[float, float] = ALMELO,
    country: str = "NL",
    hours: tuple[int, int] = (32, 40),
    garantiebaan: bool = False,
    wage_subsidy_possible: bool = False,
) -> VacancyFeatures:
    return VacancyFeatures(
        id=id,
        title=title,
        description=description,
        occupation=None if occupation is None else ConceptRef(None, occupation),
        sector=sector,
        competences_required=refs(*required),
        competences_desired=refs(*desired),
        education_level_min=education_level_min,
        languages_required=dict(languages_required if languages_required is not None else {"nl": "1F"}),
        driving_licences_required=frozenset(driving_licences_required),
        certificates_required=frozenset(certificates_required),
        lat=at[0],
        lon=at[1],
        country=country,
        hours_min=hours[0],
        hours_max=hours[1],
        garantiebaan=garantiebaan,
        wage_subsidy_possible=wage_subsidy_possible,
    )


def match_one(engine: MatchEngine, candidate: CandidateFeatures, vacancy: VacancyFeatures):  # type: ignore[no-untyped-def]
    """The single MatchResult of one pair (via the live path)."""
    index = engine.build_vacancy_index([vacancy])
    results = engine.rank_vacancies(candidate, index, limit=1)
    assert len(results) == 1
    return results[0]


def factor(result, name: str):  # type: ignore[no-untyped-def]
    """The explanation entry of one factor."""
    return next(e for e in result.explanation if e.factor == name)
