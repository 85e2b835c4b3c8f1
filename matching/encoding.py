"""Turning features into the engine's encoded form (done once per profile, then kept in an index).

Encoding is where the taxonomy is consulted: competence labels become ESCO skill URIs (or ``text:`` keys),
occupations become ESCO concepts with their ISCO groups, vacancies without competence lists get competences
inferred from their occupation and description. Everything after encoding is arithmetic on arrays.

Values placed in sparse matrices are dyadic fractions (multiples of 1/1024). Sums of such values are exact in
floating point whatever the summation order, so the one-vs-many path, the batch path and the per-pair
reference scorer produce bit-identical factor scores.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol, TypeVar

import numpy as np

from matching.algorithms import AlgorithmConfig
from matching.levels import education_rank, language_rank
from matching.types import CandidateFeatures, ConceptRef, VacancyFeatures

__all__ = [
    "LICENCES",
    "EncodedCandidate",
    "EncodedVacancy",
    "Encoder",
    "TaxonomyLike",
    "licence_mask",
    "normalise_certificate",
    "unit_vector",
]


class ConceptLike(Protocol):
    uri: str
    label: str
    kind: str
    score: float


class TaxonomyLike(Protocol):
    """The part of :class:`matching.taxonomy.Taxonomy` the engine uses."""

    def resolve_skill(self, *, code: str | None, label: str) -> ConceptLike: ...
    def resolve_occupation(self, *, code: str | None, label: str) -> ConceptLike: ...
    def isco_code(self, occupation_uri: str) -> str | None: ...
    def occupation_skills(self, occupation_uri: str) -> tuple[frozenset[str], frozenset[str]]: ...
    def related_skills(self, skill_uri: str) -> frozenset[str]: ...
    def extract_skills(self, text: str, *, limit: int = 50) -> list[ConceptLike]: ...
    def label(self, uri: str, *, lang: str = "nl") -> str: ...


# ----------------------------------------------------------------------------------------------- licences
#: Driving licence categories (bit positions). Unknown categories are ignored: the service validates the enum.
LICENCES: tuple[str, ...] = ("AM", "A", "B", "BE", "C1", "C", "CE", "D", "C1E", "DE", "T")
_LICENCE_BIT = {name: 1 << i for i, name in enumerate(LICENCES)}
# A higher category presupposes the lower one (Dutch/EU rules): CE needs C, C needs B; B includes AM.
_LICENCE_IMPLIES: Mapping[str, tuple[str, ...]] = {
    "A": ("AM",),
    "B": ("AM",),
    "BE": ("B", "AM"),
    "C1": ("B", "AM"),
    "C1E": ("C1", "BE", "B", "AM"),
    "C": ("C1", "B", "AM"),
    "CE": ("C", "C1", "C1E", "BE", "B", "AM"),
    "D": ("B", "AM"),
    "DE": ("D", "BE", "B", "AM"),
}


def licence_mask(licences: Iterable[str], *, implied: bool) -> int:
    """Bit mask of licence categories; ``implied`` adds the categories a held licence presupposes."""
    mask = 0
    for raw in licences:
        name = raw.strip().upper().replace(" ", "")
        if name not in _LICENCE_BIT:
            continue
        mask |= _LICENCE_BIT[name]
        if implied:
            for lower in _LICENCE_IMPLIES.get(name, ()):
                mask |= _LICENCE_BIT[lower]
    return mask


def licence_names(mask: int) -> list[str]:
    """Category names in a mask, in :data:`LICENCES` order."""
    return [name for name, bit in _LICENCE_BIT.items() if mask & bit]


# ------------------------------------------------------------------------------------------- certificates
_CERT_CLEAN = re.compile(r"[^0-9a-z]+")
# Spelling variants of the certificates that matter in the region, mapped to one key. This is domain
# knowledge (how SSVV, CBR and employers write them), not a list learned from any evaluation data.
_CERT_ALIASES: Mapping[str, str] = {
    "vca": "vca-basis",
    "vcabasis": "vca-basis",
    "basisvca": "vca-basis",
    "bvca": "vca-basis",
    "vcab": "vca-basis",
    "vcavol": "vca-vol",
    "volvca": "vca-vol",
    "vvca": "vca-vol",
    "vcav": "vca-vol",
    "vil": "vca-vil",
    "vcavil": "vca-vil",
    "vilvu": "vca-vil",
    "heftruck": "heftruck",
    "heftruckcertificaat": "heftruck",
    "heftruckrijbewijs": "heftruck",
    "heftruckdiploma": "heftruck",
    "forklift": "heftruck",
    "forkliftlicence": "heftruck",
    "gabelstapler": "heftruck",
    "gabelstaplerschein": "heftruck",
    "staplerschein": "heftruck",
    "reachtruck": "reachtruck",
    "reachtruckcertificaat": "reachtruck",
    "reachtruckrijbewijs": "reachtruck",
    "schubmaststapler": "reachtruck",
    "code95": "code-95",
    "chauffeursdiploma": "code-95",
    "berufskraftfahrerqualifikation": "code-95",
    "bkf": "code-95",
    "vog": "vog",
    "verklaringomtrentgedrag": "vog",
    "fuhrungszeugnis": "vog",
    "bhv": "bhv",
    "bedrijfshulpverlening": "bhv",
    "ehbo": "ehbo",
    "ersthelfer": "ehbo",
    "hacc": "haccp",
    "haccp": "haccp",
}
# Holding the key certificate satisfies a requirement for each of the implied ones.
_CERT_IMPLIES: Mapping[str, tuple[str, ...]] = {
    "vca-vol": ("vca-basis",),
    "vca-vil": ("vca-vol", "vca-basis"),
}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def normalise_certificate(label: str) -> str:
    """One key per certificate ("VCA basis", "B-VCA", "vca-basis" → ``"vca-basis"``); others: folded text."""
    key = _CERT_CLEAN.sub("", _fold(label))
    return _CERT_ALIASES.get(key, key)


def certificate_keys(labels: Iterable[str], *, implied: bool) -> frozenset[str]:
    """Normalised keys of certificates, optionally with those a held certificate implies."""
    out: set[str] = set()
    for label in labels:
        key = normalise_certificate(label)
        if not key:
            continue
        out.add(key)
        if implied:
            out.update(_CERT_IMPLIES.get(key, ()))
    return frozenset(out)


# ------------------------------------------------------------------------------------------------ geometry
def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """Point on the unit sphere; chord lengths between these give great-circle distances cheaply.

    Components are rounded to float32 values (≈ 0.6 m on the ground) so indexes can store them in half the
    memory while every path (index, batch, reference) computes with exactly the same numbers.
    """
    phi = math.radians(lat)
    lmb = math.radians(lon)
    xyz = np.array([math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi)], np.float32)
    return (float(xyz[0]), float(xyz[1]), float(xyz[2]))


# --------------------------------------------------------------------------------------------- quantising
_QUANTUM = 1024.0
#: An ambiguous occupation label has up to this many readings: the taxonomy's best matches whose label-match
#: score is within OCCUPATION_TIE_MARGIN of the best. A reading other than the taxonomy's own resolution only
#: counts with evidence from the profile's competences (see Encoder.occupation_readings).
OCCUPATION_READINGS = 3
OCCUPATION_TIE_MARGIN = 0.3
#: A near-tied reading of a candidate's occupation label counts if its profile has this many of their skills.
CONTEXT_MIN_SKILLS = 2


def dyadic(value: float) -> float:
    """Round to a multiple of 1/1024 so that sums are exact whatever their order (see module docstring)."""
    return math.floor(value * _QUANTUM + 0.5) / _QUANTUM


# ------------------------------------------------------------------------------------------------- records
@dataclass(frozen=True, slots=True)
class EncodedCandidate:
    """A candidate after taxonomy resolution; what indexes store and explanations read."""

    id: str
    # Held concept keys in the candidate's order, and the label the candidate gave each (same positions).
    # Tuples, not a set and a dict: a tuple costs 8 bytes per entry where a frozenset costs about 50 and a
    # dict about 40, for every candidate of an index (held_skills and skill_labels build those per read).
    skill_keys: tuple[str, ...]
    skill_given: tuple[str, ...]
    related_credit: float  # credit of a related-only concept (0: related concepts do not count)
    # The encoder's table of related concepts per held concept (shared by every record of one encoder, never
    # copied): related_only and skills are computed from it on demand, not stored per candidate.
    related_of: Mapping[str, frozenset[str]] = field(compare=False, repr=False)
    # ("occ:<uri>" | "isco4:1234" | ..., credit) sorted by token: the occupation factor's input, hashable, so
    # it is also the record's key in the index's occupation row classes (one object serves both).
    occupation_credits: tuple[tuple[str, float], ...]
    # (concept key, given label, "desired" | "experience", ISCO code or None)
    occupation_labels: tuple[tuple[str, str, str, str | None], ...]
    languages: Mapping[str, int]
    education: int | None
    education_level: str | None
    licences: int
    certificates: frozenset[str]
    lat: float
    lon: float
    xyz: tuple[float, float, float]
    country: str
    work_countries: frozenset[str]
    max_travel_km: int
    hours_min: int
    hours_max: int
    sectors: frozenset[str]
    target_group_register: bool

    @property
    def held_skills(self) -> frozenset[str]:
        """The held concept keys as a set (built per call: readers that need it more than once keep it)."""
        return frozenset(self.skill_keys)

    @property
    def skill_labels(self) -> dict[str, str]:
        """Held concept key → the label the candidate gave it (built per call)."""
        return dict(zip(self.skill_keys, self.skill_given, strict=True))

    @property
    def occupation_tokens(self) -> dict[str, float]:
        """Occupation token → credit (built per call from :attr:`occupation_credits`)."""
        return dict(self.occupation_credits)

    @property
    def related_only(self) -> frozenset[str]:
        """Concepts related to a held one but not held themselves (none when related concepts do not count).

        Computed on each call (a union of a few small sets): at twente scale storing it, and the credit
        mapping below, cost about 200 MiB per process holding a candidate index; readers that need it
        more than once per candidate keep the result."""
        keys = self.skill_keys
        if self.related_credit <= 0 or not keys:
            return frozenset()
        table = self.related_of
        return frozenset().union(*[table.get(key, _NO_CONCEPTS) for key in keys]).difference(keys)

    @property
    def skills(self) -> dict[str, float]:
        """Concept key → credit: 1.0 held, ``related_credit`` for related-only concepts (built per call)."""
        skills = dict.fromkeys(self.related_only, self.related_credit)
        skills.update(dict.fromkeys(self.skill_keys, 1.0))
        return skills


_NO_CONCEPTS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EncodedVacancy:
    """A vacancy after taxonomy resolution."""

    id: str
    title: str
    required: frozenset[str]
    desired: frozenset[str]
    inferred: bool  # competences inferred from occupation/description (no lists given)
    skill_labels: Mapping[str, str]
    occupation_tokens: frozenset[str]
    occupation_key: str | None
    occupation_label: str
    profile: frozenset[str] | None  # the skills of the linked ESCO occupation (None if not linked to one)
    listed_extra: frozenset[str]  # required/desired concepts outside the profile (they count for the fit too)
    isco: str | None
    languages: Mapping[str, int]
    education: int | None
    education_level: str | None
    licences: int
    certificates: frozenset[str]
    certificate_labels: Mapping[str, str]
    lat: float
    lon: float
    xyz: tuple[float, float, float]
    country: str
    hours_min: int
    hours_max: int
    sector: str
    garantiebaan: bool


#: Bound of each memo of an :class:`Encoder` (labels come from user input): a full memo starts over.
_MEMO_LIMIT = 200_000
_MISSING = object()
_H = TypeVar("_H", bound=Hashable)
#: Bulk look-ups (see Encoder.prepare_candidates) start at this many profiles / labels.
_BULK_MIN = 16


def _remember(memo: dict, key: object, value: object) -> None:  # type: ignore[type-arg]
    """Store in a memo (caller holds the lock), clearing it first when full: memory stays bounded."""
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value


@lru_cache(maxsize=1 << 16)
def occupation_tokens_for(key: str, isco: str | None) -> tuple[tuple[str, int], ...]:
    """Tokens of an occupation with their level: (``occ:``key, 0), (isco4, 1), (isco3, 2), (isco2, 3).

    Cached: explanations ask for the same few occupations over and over.
    """
    tokens: list[tuple[str, int]] = [(f"occ:{key}", 0)]
    if isco:
        digits = isco.strip()
        for level, width in ((1, 4), (2, 3), (3, 2)):
            if len(digits) >= width:
                tokens.append((f"isco{width}:{digits[:width]}", level))
    return tuple(tokens)


class Encoder:
    """Resolves features against a taxonomy, with memoisation so shared labels cost one lookup.

    Thread-safe: the memo dictionaries are guarded by a lock; the taxonomy is read-only.
    """

    def __init__(self, taxonomy: TaxonomyLike, algorithm: AlgorithmConfig) -> None:
        self.taxonomy = taxonomy
        self.algorithm = algorithm
        self._lock = threading.Lock()
        self._skill_memo: dict[tuple[str | None, str], str] = {}
        self._occ_memo: dict[tuple[str | None, str], tuple[str, str | None, str]] = {}
        self._related_memo: dict[str, frozenset[str]] = {}
        # The non-empty related sets of every skill concept seen, never cleared (bounded by the taxonomy's
        # skills; text keys relate to nothing): candidate records read their related concepts from it.
        self._related_table: dict[str, frozenset[str]] = {}
        self._inferred_memo: dict[str, frozenset[str]] = {}
        self._profile_memo: dict[str, frozenset[str]] = {}
        self._ties_memo: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
        # Per occupation reference (code, label): the alternative readings that need evidence from the
        # competences ((uri, ISCO code, skill profile) of the other near-tied readings).
        self._alternatives_memo: dict[
            tuple[str | None, str], tuple[tuple[str, str | None, frozenset[str]], ...]
        ] = {}
        # (occupation key, ISCO code, credit factor) → ((token, credit), ...) for a candidate's tokens.
        self._credits_memo: dict[tuple[str, str | None, float], tuple[tuple[str, float], ...]] = {}
        # Small per-value memos of the candidate encoding (certificates, licences, levels, coordinates).
        self._value_memo: dict[tuple[str, object], object] = {}
        self._shared_memo: dict[Hashable, Hashable] = {}  # see _shared
        thresholds = algorithm.thresholds
        self._related_credit = dyadic(thresholds["related_credit"])
        levels = (
            thresholds["occupation_same"],
            thresholds["occupation_unit_group"],
            thresholds["occupation_minor_group"],
            thresholds["occupation_sub_major"],
        )
        # Level credits are cumulative: a same-concept match also shares every ISCO group, so each token
        # carries the increment over the next coarser level and a pair's credit is the sum over shared tokens.
        self._increments = [
            levels[i] - (levels[i + 1] if i + 1 < len(levels) else 0.0) for i in range(len(levels))
        ]
        self._experience_factor = thresholds["experience_factor"]

    # -- taxonomy lookups (memoised) --------------------------------------------------------------
    def skill_key(self, ref: ConceptRef) -> str:
        """Concept key of a competence: its ESCO URI, or ``text:<normalised label>``."""
        memo_key = (ref.code, ref.label)
        hit = self._skill_memo.get(memo_key)  # a dict read needs no lock; writes take it
        if hit is not None:
            return hit
        concept = self.taxonomy.resolve_skill(code=ref.code, label=ref.label)
        with self._lock:
            _remember(self._skill_memo, memo_key, concept.uri)
        return concept.uri

    def occupation(self, ref: ConceptRef) -> tuple[str, str | None, str]:
        """(concept key, ISCO code or None, kind) of an occupation reference."""
        memo_key = (ref.code, ref.label)
        hit = self._occ_memo.get(memo_key)
        if hit is not None:
            return hit
        concept = self.taxonomy.resolve_occupation(code=ref.code, label=ref.label)
        isco = None if concept.kind == "text" else self.taxonomy.isco_code(concept.uri)
        result = (concept.uri, isco, concept.kind)
        with self._lock:
            _remember(self._occ_memo, memo_key, result)
        return result

    def _near_ties(self, label: str) -> list[tuple[str, str | None]]:
        """Occupations whose label matches ``label`` (almost) as well as the best one: (uri, ISCO code)."""
        memo_key = ("ties", label)
        hit = self._ties_memo.get(memo_key)
        if hit is not None:
            return hit
        search = getattr(self.taxonomy, "search_occupations", None)
        found = self._ties_of(search(label, limit=OCCUPATION_READINGS)) if search is not None else []
        with self._lock:
            _remember(self._ties_memo, memo_key, found)
        return found

    def _ties_of(self, concepts: Sequence[ConceptLike]) -> list[tuple[str, str | None]]:
        found: list[tuple[str, str | None]] = []
        if concepts:
            best = concepts[0].score
            for concept in concepts:
                if concept.kind == "occupation" and concept.score >= best - OCCUPATION_TIE_MARGIN:
                    found.append((concept.uri, self.taxonomy.isco_code(concept.uri)))
        return found

    # -- bulk preparation -------------------------------------------------------------------------
    def _prefetch_ties(self, labels: Iterable[str]) -> None:
        """Fill the near-ties memo for many labels with one bulk occupation search (the taxonomy's
        ``search_occupations_many``, whose results equal ``search_occupations`` one label at a time), so
        that encoding the profiles one by one finds every label's near ties already there."""
        search_many = getattr(self.taxonomy, "search_occupations_many", None)
        if search_many is None:
            return
        memo = self._ties_memo
        todo = [label for label in dict.fromkeys(labels) if ("ties", label) not in memo]
        if len(todo) < _BULK_MIN:
            return  # a few labels: the one-at-a-time path is as cheap
        results = search_many(todo, limit=OCCUPATION_READINGS)
        found = [self._ties_of(concepts) for concepts in results]
        with self._lock:
            for label, ties in zip(todo, found, strict=True):
                _remember(memo, ("ties", label), ties)

    def prepare_candidates(self, candidates: Sequence[CandidateFeatures]) -> None:
        """Before encoding many candidates: look up in bulk what :meth:`candidate` would look up one
        occupation label at a time (the near ties of the code-less, linked occupation labels of candidates
        with competences). Only memos are filled; the encodings are the same with or without this call."""
        if len(candidates) < _BULK_MIN:
            return
        labels: list[str] = []
        occ_memo = self._occ_memo
        seen: set[tuple[str | None, str]] = set()
        for features in candidates:
            if not features.competences:
                continue  # no held competences: candidate() reads no near ties
            for ref in (*features.desired_occupations, *(exp.occupation for exp in features.experience)):
                if ref.code:
                    continue
                memo_key = (ref.code, ref.label)
                if memo_key in seen:
                    continue
                seen.add(memo_key)
                _key, _isco, kind = occ_memo.get(memo_key) or self.occupation(ref)
                if kind != "text":
                    labels.append(ref.label)
        self._prefetch_ties(labels)

    def prepare_vacancies(self, vacancies: Sequence[VacancyFeatures]) -> None:
        """Like :meth:`prepare_candidates`, for :meth:`vacancy` (its occupation reference, then its title)."""
        if len(vacancies) < _BULK_MIN:
            return
        labels: list[str] = []
        occ_memo = self._occ_memo
        for features in vacancies:
            if not features.competences_required and not features.competences_desired:
                continue  # no listed competences: occupation_in_context reads no near ties
            refs: list[ConceptRef] = []
            occ_ref = features.occupation
            if occ_ref is not None and (occ_ref.code or occ_ref.label.strip()):
                refs.append(occ_ref)
            if features.title.strip():
                refs.append(ConceptRef(code=None, label=features.title))
            for ref in refs:
                _key, _isco, kind = occ_memo.get((ref.code, ref.label)) or self.occupation(ref)
                if not ref.code and kind != "text":
                    labels.append(ref.label)
                if kind != "text":
                    break
        self._prefetch_ties(labels)

    def occupation_in_context(self, ref: ConceptRef, skills: frozenset[str]) -> tuple[str, str | None, str]:
        """Link an occupation label, using the profile's competences to choose between near-tied readings.

        Job titles are ambiguous ("draaier": metal turner or machine operator; "bediener"). When several ESCO
        occupations match the label about equally well, the one whose skill profile contains most of the
        person's or job's own competences is taken; without competences, or without a clear winner, the
        taxonomy's own resolution stands.
        """
        key, isco, kind = self.occupation(ref)
        if ref.code or not skills or kind == "text":
            return key, isco, kind
        ties = self._near_ties(ref.label)
        if len(ties) < 2 or key not in {uri for uri, _ in ties}:
            return key, isco, kind
        best = (len(skills & self.occupation_profile(key)), 1, key, isco)
        for uri, uri_isco in ties:
            overlap = len(skills & self.occupation_profile(uri))
            if (overlap, 0) > best[:2]:
                best = (overlap, 0, uri, uri_isco)
        return best[2], best[3], "occupation"

    def occupation_readings(self, ref: ConceptRef, skills: frozenset[str]) -> list[tuple[str, str | None]]:
        """All plausible readings of a candidate's occupation label: (concept key, ISCO code).

        The taxonomy's resolution, plus every near-tied reading whose skill profile contains at least
        ``CONTEXT_MIN_SKILLS`` of the candidate's competences. More competences can only add readings, so
        adding a competence never lowers an occupation score (the monotonicity the tests check).
        """
        key, isco, kind = self.occupation(ref)
        readings = [(key, isco)]
        if ref.code or not skills or kind == "text":
            return readings
        ties = self._near_ties(ref.label)
        if key not in {uri for uri, _ in ties}:
            return readings
        for uri, uri_isco in ties:
            if uri != key and len(skills & self.occupation_profile(uri)) >= CONTEXT_MIN_SKILLS:
                readings.append((uri, uri_isco))
        return readings

    def related(self, skill_key: str) -> frozenset[str]:
        """Concepts closely related to a skill (none for ``text:`` keys)."""
        hit = self._related_memo.get(skill_key)
        if hit is not None:
            return hit
        # ``text:`` keys relate to nothing; they are remembered too, so a profile's keys are all in the memo.
        result = frozenset() if skill_key.startswith("text:") else self.taxonomy.related_skills(skill_key)
        with self._lock:
            _remember(self._related_memo, skill_key, result)
            if result:
                self._related_table[skill_key] = result
        return result

    def occupation_profile(self, occupation_key: str) -> frozenset[str]:
        """All skills (essential and optional) of an occupation: what work in it draws on."""
        hit = self._profile_memo.get(occupation_key)
        if hit is not None:
            return hit
        essential, optional = self.taxonomy.occupation_skills(occupation_key)
        result = essential | optional
        with self._lock:
            _remember(self._profile_memo, occupation_key, result)
        return result

    def occupation_skill_keys(self, occupation_key: str) -> frozenset[str]:
        """Essential skills of an occupation (what a job in it asks for)."""
        hit = self._inferred_memo.get(occupation_key)
        if hit is not None:
            return hit
        essential, _optional = self.taxonomy.occupation_skills(occupation_key)
        with self._lock:
            _remember(self._inferred_memo, occupation_key, essential)
        return essential

    # -- candidate encoding helpers (memoised per distinct value) -----------------------------------
    def _alternatives(
        self, ref: ConceptRef, memo_key: tuple[str | None, str], key: str
    ) -> tuple[tuple[str, str | None, frozenset[str]], ...]:
        """The near-tied readings of a code-less, linked occupation label other than its resolution ``key``,
        with their skill profiles (none when the resolution is not among the near ties)."""
        hit = self._alternatives_memo.get(memo_key)
        if hit is None:
            ties = self._near_ties(ref.label)
            if key not in {uri for uri, _ in ties}:
                hit = ()
            else:
                hit = tuple((uri, isco, self.occupation_profile(uri)) for uri, isco in ties if uri != key)
            with self._lock:
                _remember(self._alternatives_memo, memo_key, hit)
        return hit

    def _token_credits(self, key: str, isco: str | None, factor: float) -> tuple[tuple[str, float], ...]:
        """((token, credit), ...) of one occupation reading with a source factor (see :meth:`candidate`)."""
        memo_key = (key, isco, factor)
        hit = self._credits_memo.get(memo_key)
        if hit is None:
            increments = self._increments
            hit = tuple(
                (token, dyadic(increments[level] * factor))
                for token, level in occupation_tokens_for(key, isco)
            )
            with self._lock:
                _remember(self._credits_memo, memo_key, hit)
        return hit

    def _shared(self, value: _H) -> _H:
        """The first object seen equal to ``value`` (a label, an ISCO code, a tuple of such): records of one
        encoder hold one object per distinct value, not one per profile (labels arrive as new strings from
        each database row)."""
        hit = self._shared_memo.get(value, _MISSING)
        if hit is _MISSING:
            with self._lock:
                _remember(self._shared_memo, value, value)
            return value
        return hit  # type: ignore[no-any-return]

    def _value(self, kind: str, value: object, make: Callable[[], object]) -> object:
        memo_key = (kind, value)
        hit = self._value_memo.get(memo_key, _MISSING)
        if hit is _MISSING:
            hit = make()
            with self._lock:
                _remember(self._value_memo, memo_key, hit)
        return hit

    # -- profiles ---------------------------------------------------------------------------------
    def candidate(self, features: CandidateFeatures) -> EncodedCandidate:
        """Encode a candidate: held and related competences, occupation tokens, levels, masks.

        Everything that depends on one label, code or value alone is memoised (caseloads repeat them), so
        a candidate costs a few dictionary lookups and set operations.
        """
        labels: dict[str, str] = {}
        skill_memo = self._skill_memo
        for ref in features.competences:
            key = skill_memo.get((ref.code, ref.label))
            if key is None:
                key = self.skill_key(ref)
            if key not in labels:
                labels[key] = ref.label
        held = frozenset(labels)
        related_credit = self._related_credit
        if related_credit > 0:
            related_memo = self._related_memo
            for key in held:
                if key not in related_memo:
                    self.related(key)  # into the table the record reads its related concepts from

        tokens: dict[str, float] = {}
        occ_labels: list[tuple[str, str, str, str | None]] = []
        experience_factor = self._experience_factor
        sources = [(ref, 1.0, "desired") for ref in features.desired_occupations] + [
            (exp.occupation, experience_factor, "experience") for exp in features.experience
        ]
        occ_memo = self._occ_memo
        for ref, factor, source in sources:
            memo_key = (ref.code, ref.label)
            key, isco, kind = occ_memo.get(memo_key) or self.occupation(ref)
            readings = [(key, isco)]
            if held and not ref.code and kind != "text":
                # Near-tied readings count with evidence from the competences (see occupation_readings).
                for uri, uri_isco, profile in self._alternatives(ref, memo_key, key):
                    if len(held & profile) >= CONTEXT_MIN_SKILLS:
                        readings.append((uri, uri_isco))
            for key, isco in readings:
                occ_labels.append((key, ref.label, source, isco))
                for token, credit in self._token_credits(key, isco, factor):
                    if credit > tokens.get(token, 0.0):
                        tokens[token] = credit

        # Values many candidates share (countries, languages, sectors, licences, labels, occupation tokens,
        # ...) are memoised: equal values are one object across the index, not one per candidate.
        value = self._value
        shared = self._shared
        languages = features.languages
        return EncodedCandidate(
            id=features.id,
            skill_keys=tuple(labels),
            skill_given=tuple([shared(label) for label in labels.values()]),
            related_credit=related_credit,
            related_of=self._related_table,
            occupation_credits=tuple([shared(item) for item in sorted(tokens.items())]),
            occupation_labels=tuple([shared(item) for item in occ_labels]),
            languages=value(  # type: ignore[arg-type]
                "languages",
                languages,
                lambda: {k.lower(): r for k, v in languages.items() if (r := language_rank(v)) > 0},
            )
            if languages
            else {},
            education=education_rank(features.education_level),
            education_level=shared(features.education_level),
            licences=value(  # type: ignore[arg-type]
                "licences",
                features.driving_licences,
                lambda: licence_mask(features.driving_licences, implied=True),
            ),
            certificates=value(  # type: ignore[arg-type]
                "certificates",
                features.certificates,
                lambda: certificate_keys(features.certificates, implied=True),
            ),
            lat=float(features.lat),
            lon=float(features.lon),
            xyz=value(  # type: ignore[arg-type]
                "xyz", (features.lat, features.lon), lambda: unit_vector(features.lat, features.lon)
            ),
            country=shared(features.country.upper()),
            work_countries=value(  # type: ignore[arg-type]
                "work_countries",
                (features.work_countries, features.country),
                lambda: (
                    frozenset(c.upper() for c in features.work_countries)
                    or frozenset({features.country.upper()})
                ),
            ),
            max_travel_km=int(features.max_travel_km),
            hours_min=int(features.hours_min),
            hours_max=int(features.hours_max),
            sectors=value(  # type: ignore[arg-type]
                "sectors", features.sectors, lambda: frozenset(s.lower() for s in features.sectors)
            ),
            target_group_register=bool(features.target_group_register),
        )

    def vacancy(self, features: VacancyFeatures) -> EncodedVacancy:
        """Encode a vacancy; without competence lists, competences are inferred from occupation and text."""
        occ_ref = features.occupation
        key: str | None = None
        isco: str | None = None
        occ_label = features.title
        candidates_refs = []
        if occ_ref is not None and (occ_ref.code or occ_ref.label.strip()):
            candidates_refs.append(occ_ref)
        if features.title.strip():
            candidates_refs.append(ConceptRef(code=None, label=features.title))
        occ_kind = "text"
        listed = frozenset(
            self.skill_key(r) for r in (*features.competences_required, *features.competences_desired)
        )
        for ref in candidates_refs:
            ref_key, ref_isco, kind = self.occupation_in_context(ref, listed)
            if key is None or (key.startswith("text:") and kind != "text"):
                key, isco, occ_label, occ_kind = ref_key, ref_isco, ref.label, kind
            if kind != "text":
                break

        shared = self._shared
        labels: dict[str, str] = {}
        required: set[str] = set()
        desired: set[str] = set()
        for ref in features.competences_required:
            k = self.skill_key(ref)
            required.add(k)
            if k not in labels:
                labels[k] = shared(ref.label)
        for ref in features.competences_desired:
            k = self.skill_key(ref)
            if k not in required:
                desired.add(k)
                if k not in labels:
                    labels[k] = shared(ref.label)
        inferred = False
        if not required and not desired:
            inferred = True
            if key is not None and not key.startswith("text:"):
                for skill in self.occupation_skill_keys(key):
                    required.add(skill)
                    labels.setdefault(skill, self.taxonomy.label(skill, lang="nl"))
            for concept in self.taxonomy.extract_skills(f"{features.title}. {features.description}"):
                required.add(concept.uri)
                labels.setdefault(concept.uri, concept.label)

        tokens = shared(
            frozenset(t for t, _level in occupation_tokens_for(key, isco)) if key else frozenset()
        )
        profile = self.occupation_profile(key) if key is not None and occ_kind == "occupation" else None
        # Shared per distinct value across the index, as for candidates (see :meth:`candidate`).
        value = self._value
        certificates = features.certificates_required
        languages = features.languages_required
        return EncodedVacancy(
            id=features.id,
            title=shared(features.title),
            # Empty sets are one object; non-empty competence lists are nearly all distinct (not memoised).
            required=frozenset(required) if required else _NO_CONCEPTS,
            desired=frozenset(desired) if desired else _NO_CONCEPTS,
            inferred=inferred,
            skill_labels=labels,
            occupation_tokens=tokens,
            occupation_key=key,
            occupation_label=occ_label,
            profile=profile,
            # Few distinct values (the listed concepts outside an occupation's profile): shared.
            listed_extra=(
                shared(frozenset((required | desired) - profile)) if profile is not None else _NO_CONCEPTS
            ),
            isco=isco,
            languages=value(  # type: ignore[arg-type]
                "vacancy languages",
                languages,
                lambda: {k.lower(): r for k, v in languages.items() if (r := language_rank(v)) > 0},
            ),
            education=education_rank(features.education_level_min),
            education_level=shared(features.education_level_min),
            licences=licence_mask(features.driving_licences_required, implied=False),
            certificates=value(  # type: ignore[arg-type]
                "vacancy certificates", certificates, lambda: certificate_keys(certificates, implied=False)
            ),
            certificate_labels=value(  # type: ignore[arg-type]
                "vacancy certificate labels",
                certificates,
                lambda: {k: c for c in sorted(certificates) if (k := normalise_certificate(c))},
            ),
            lat=float(features.lat),
            lon=float(features.lon),
            xyz=value(  # type: ignore[arg-type]
                "xyz", (features.lat, features.lon), lambda: unit_vector(features.lat, features.lon)
            ),
            country=shared(features.country.upper()),
            hours_min=int(features.hours_min),
            hours_max=int(features.hours_max),
            sector=shared(features.sector.lower()),
            garantiebaan=bool(features.garantiebaan),
        )
