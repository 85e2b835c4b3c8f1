"""Beroep: does the candidate want, or have experience in, the vacancy's occupation (or a close one).

Occupations are ESCO concepts with their ISCO-08 groups. Proximity is ordinal: the same ESCO occupation
(``occupation_same``) > the same ISCO unit group, 4 digits (``occupation_unit_group``) > the same minor group,
3 digits (``occupation_minor_group``) > the same sub-major group, 2 digits (``occupation_sub_major``) >
nothing. A desired occupation counts fully; one known only from experience counts ``experience_factor`` of
it. The candidate's best occupation decides. Encoded as cumulative credits per shared token (occupation,
ISCO4, ISCO3, ISCO2), so one sparse product scores a profile against many.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy, occupation_tokens_for
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.types import Unmet

NAME = "occupation"

_LEVEL_TEXT = (
    "hetzelfde beroep",
    "zelfde beroepsgroep",
    "verwante beroepsgroep",
    "zelfde beroepsklasse",
)


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Summed token credits (≤ 1 by construction)."""
    credit = block.overlap("occupations", "occupations")
    return FactorScores(np.minimum(credit, 1.0))


def pair_score(candidate_tokens: Mapping[str, float], vacancy_tokens: frozenset[str]) -> float:
    """Per-pair form of :func:`score`."""
    total = 0.0
    for token in sorted(vacancy_tokens):
        total += candidate_tokens.get(token, 0.0)
    return min(total, 1.0)


def best_match(candidate: EncodedCandidate, vacancy: EncodedVacancy) -> tuple[int, str, str] | None:
    """(level, given label, source) of the candidate occupation closest to the vacancy's, or None."""
    if vacancy.occupation_key is None:
        return None
    vac_levels = dict(occupation_tokens_for(vacancy.occupation_key, vacancy.isco))
    best: tuple[int, int, str, str] | None = None
    for key, label, source, isco in candidate.occupation_labels:
        shared = [vac_levels[t] for t, _ in occupation_tokens_for(key, isco) if t in vac_levels]
        if not shared:
            continue
        rank = (min(shared), 0 if source == "desired" else 1)
        if best is None or rank < best[:2]:
            best = (rank[0], rank[1], label, source)
    return None if best is None else (best[0], best[2], best[3])


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'Gewenst beroep "heftruckchauffeur" is hetzelfde beroep als de vacature (ISCO 8344).'"""
    occupation = vacancy.occupation_label or vacancy.title
    if not candidate.occupation_labels:
        return "Geen gewenst beroep of werkervaring opgegeven.", ()
    match = best_match(candidate, vacancy)
    if match is None or score <= 0.0:
        return f"Geen gewenst beroep of ervaring verwant aan '{occupation}'.", ()
    level, label, source = match
    what = "Gewenst beroep" if source == "desired" else "Ervaring als"
    isco = f" (ISCO {vacancy.isco[: 4 - level]})" if vacancy.isco and level > 0 else ""
    return f"{what} '{label}': {_LEVEL_TEXT[level]} als '{occupation}'{isco}.", ()
