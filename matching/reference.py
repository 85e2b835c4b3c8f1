"""A plain per-pair Python scorer: straightforward loops over encoded profiles, the same scores as the engine.

It exists to check the vectorised engine (identical top-50 on a fixture) and as the benchmark's baseline. It
shares only the encoding (taxonomy resolution) and each factor's per-pair formula with the engine; the
distance, the combination and the ranking are written out here again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from matching.algorithms import FACTOR_ORDER, AlgorithmConfig
from matching.encoding import EncodedCandidate, EncodedVacancy
from matching.factors import (
    certificates,
    competences,
    driving_licences,
    education,
    hours,
    language,
    occupation,
    travel,
)
from matching.index import EARTH_RADIUS_KM

__all__ = ["CandidateSide", "candidate_side", "pair_distance_km", "rank_vacancies_reference", "score_pair"]


def pair_distance_km(candidate: EncodedCandidate, vacancy: EncodedVacancy) -> float:
    """Great-circle distance between the two postcode centres, rounded to 0.1 km."""
    chord2 = sum((a - b) ** 2 for a, b in zip(candidate.xyz, vacancy.xyz, strict=True))
    km = 2.0 * EARTH_RADIUS_KM * math.asin(min(math.sqrt(chord2) * 0.5, 1.0))
    return round(km * 10.0) / 10.0


class CandidateSide(NamedTuple):
    """What a candidate record computes on each access (its competence credits, held concepts and occupation
    tokens), built once by a caller that scores one candidate against many vacancies."""

    skills: Mapping[str, float]
    held: frozenset[str]
    occupation_tokens: Mapping[str, float]


def candidate_side(candidate: EncodedCandidate) -> CandidateSide:
    return CandidateSide(candidate.skills, candidate.held_skills, candidate.occupation_tokens)


def score_pair(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    algorithm: AlgorithmConfig,
    *,
    side: CandidateSide | None = None,
) -> tuple[int, int]:
    """(score in hundredths of a point, number of unmet hard requirements) for one pair.

    ``side``: :func:`candidate_side` of ``candidate``, built once by a caller scoring one candidate against
    many vacancies (a plain loop would keep them as variables too; built per pair when not given)."""
    if side is None:
        side = candidate_side(candidate)
    t = algorithm.thresholds
    distance = pair_distance_km(candidate, vacancy)
    limit = float(min(candidate.max_travel_km, t["max_travel_km"]))
    travel_score, travel_unmet = travel.pair_score(
        distance,
        limit,
        allowed=vacancy.country in candidate.work_countries,
        at_limit=t["travel_score_at_limit"],
    )
    language_score, language_unmet = language.pair_score(
        candidate.languages, vacancy.languages, step=t["language_step_penalty"]
    )
    licence_score, licence_unmet = driving_licences.pair_score(candidate.licences, vacancy.licences)
    certificate_score, certificate_unmet = certificates.pair_score(
        candidate.certificates, vacancy.certificates
    )
    scores = {
        "competences": competences.pair_score(
            side.skills,
            side.held,
            vacancy,
            share=t["required_share"],
            cap=t["inferred_cap"],
            profile_share=t["profile_share"],
        ),
        "occupation": occupation.pair_score(side.occupation_tokens, vacancy.occupation_tokens),
        "language": language_score,
        "travel": travel_score,
        "hours": hours.pair_score(
            candidate.hours_min, candidate.hours_max, vacancy.hours_min, vacancy.hours_max
        ),
        "education": education.pair_score(
            candidate.education, vacancy.education, step=t["education_step_penalty"]
        ),
        "driving_licences": licence_score,
        "certificates": certificate_score,
    }
    base = 0
    for name in FACTOR_ORDER:
        base += round(scores[name] * (100.0 * algorithm.weights[name]))
    unmet = travel_unmet + language_unmet + licence_unmet + certificate_unmet
    if unmet:
        multiplier = t["unmet_multiplier"] ** min(unmet, 64)
        return round(base * multiplier), unmet
    return base, 0


def rank_vacancies_reference(
    candidate: EncodedCandidate,
    vacancies: Iterable[EncodedVacancy],
    algorithm: AlgorithmConfig,
    *,
    limit: int = 50,
) -> list[tuple[str, float]]:
    """Top ``limit`` vacancies as (id, score): unmet requirements last, then score, then id."""
    rows = []
    side = candidate_side(candidate)
    for vacancy in vacancies:
        if vacancy.garantiebaan and not candidate.target_group_register:
            continue
        score, unmet = score_pair(candidate, vacancy, algorithm, side=side)
        rows.append((unmet > 0, -score, vacancy.id))
    rows.sort()
    return [(vid, -neg / 100) for _, neg, vid in rows[:limit]]
