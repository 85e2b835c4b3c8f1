"""The engine's input and output contract.

Inputs carry ONLY allow-listed features. There is deliberately no field for a name, BSN, contact details,
nationality, gender, age or birth date, health, support need or wage-subsidy status of a candidate: what the
engine cannot receive, it cannot use. ``target_group_register`` (doelgroepregister) is special-category data
that is accepted for one purpose only — eligibility for garantiebanen — and never reaches a score. The
service maps its rows onto these types in one place (``service/matches/mapping.py``); tests check that
protected attributes cannot influence any score.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = [
    "CandidateFeatures",
    "ConceptRef",
    "Experience",
    "FactorExplanation",
    "MatchFilters",
    "MatchResult",
    "Unmet",
    "VacancyFeatures",
]


class FrozenMap(Mapping[str, str]):
    """A read-only, hashable, picklable copy of a str→str mapping (language levels).

    Keeps the feature dataclasses truly immutable and safe to share between threads and worker processes.
    """

    __slots__ = ("_items",)

    def __init__(self, value: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(sorted((value or {}).items()))

    def __getitem__(self, key: str) -> str:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[str, str]]]:
        return (FrozenMap, (self._items,))


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@dataclass(frozen=True, slots=True)
class ConceptRef:
    """A competence or occupation as given: optional code (ESCO URI or ISCO code) and label (NL/DE/EN)."""

    code: str | None
    label: str


@dataclass(frozen=True, slots=True)
class Experience:
    """Work experience in an occupation, in years."""

    occupation: ConceptRef
    years: float


@dataclass(frozen=True, slots=True)
class CandidateFeatures:
    """Everything the engine may know about a candidate (id is the service's opaque public id).

    ``languages`` maps an ISO 639-1 code to a level (``"2F"``, ``"B1"``); ``work_countries`` lists the
    countries the candidate will work in (empty means: only the home ``country``). ``target_group_register``
    is used for garantiebaan eligibility only and never changes a score.
    """

    id: str
    competences: tuple[ConceptRef, ...]
    desired_occupations: tuple[ConceptRef, ...]
    experience: tuple[Experience, ...]
    education_level: str | None
    languages: Mapping[str, str]
    lat: float
    lon: float
    country: str
    max_travel_km: int
    hours_min: int
    hours_max: int
    driving_licences: frozenset[str]
    certificates: frozenset[str]
    work_countries: frozenset[str]
    sectors: frozenset[str]
    target_group_register: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages", _frozen_mapping(self.languages))


@dataclass(frozen=True, slots=True)
class VacancyFeatures:
    """Everything the engine may know about a vacancy.

    ``occupation`` may be ``None``: the title then names the occupation. A vacancy without competence lists
    (text only) is matched on competences inferred from its occupation and description.
    ``wage_subsidy_possible`` is carried for eligibility rules only and never changes a score.
    """

    id: str
    title: str
    description: str
    occupation: ConceptRef | None
    sector: str
    competences_required: tuple[ConceptRef, ...]
    competences_desired: tuple[ConceptRef, ...]
    education_level_min: str | None
    languages_required: Mapping[str, str]
    driving_licences_required: frozenset[str]
    certificates_required: frozenset[str]
    lat: float
    lon: float
    country: str
    hours_min: int
    hours_max: int
    garantiebaan: bool
    wage_subsidy_possible: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "languages_required", _frozen_mapping(self.languages_required))


@dataclass(frozen=True, slots=True)
class MatchFilters:
    """Optional filters on a ranking. They hide results on purpose; nothing else does."""

    sector: str | None = None
    country: str | None = None
    max_km: float | None = None
    min_score: float | None = None


@dataclass(frozen=True, slots=True)
class FactorExplanation:
    """One factor's share of a score: ``contribution`` = ``score`` (0–1) × ``weight``; detail in Dutch."""

    factor: str
    weight: float
    score: float
    contribution: float
    detail: str


@dataclass(frozen=True, slots=True)
class Unmet:
    """A hard requirement that is not met, with what would close the gap (``"VCA-basis ontbreekt"``)."""

    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """One ranked match. ``id`` is the OTHER side's id; explanation contributions add up to ``score``."""

    id: str
    score: float
    rank: int
    distance_km: float
    unmet: tuple[Unmet, ...] = ()
    explanation: tuple[FactorExplanation, ...] = field(default=())
