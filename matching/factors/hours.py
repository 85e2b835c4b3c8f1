"""Uren: how well the hours per week the candidate wants overlap the vacancy's hours.

Score = (overlap + 4) / (vacancy range + 4), clipped to [0, 1]. The 4-hour slack makes a single-value range
("32 uur") and ranges that touch ("16–24" vs "24–40") behave sensibly: full overlap scores 1, touching ranges
score a little, ranges far apart 0. Hours are a soft preference, never a hard requirement.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.types import Unmet

NAME = "hours"
SLACK = 4.0


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Overlap of hour ranges, relative to the vacancy's range."""
    c_min = block.c("hours_min").astype(np.float64)
    c_max = block.c("hours_max").astype(np.float64)
    v_min = block.v("hours_min").astype(np.float64)
    v_max = block.v("hours_max").astype(np.float64)
    overlap = np.minimum(c_max, v_max) - np.maximum(c_min, v_min)
    s = np.clip((overlap + SLACK) / (v_max - v_min + SLACK), 0.0, 1.0)
    return FactorScores(np.broadcast_to(s, block.shape))


def pair_score(c_min: int, c_max: int, v_min: int, v_max: int) -> float:
    """Per-pair form of :func:`score` (used by the reference scorer)."""
    overlap = min(c_max, v_max) - max(c_min, v_min)
    return min(1.0, max(0.0, (overlap + SLACK) / (v_max - v_min + SLACK)))


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'Vacature 32–40 uur; kandidaat zoekt 24–40 uur: past.'"""
    want = f"kandidaat zoekt {candidate.hours_min}–{candidate.hours_max} uur"
    offer = f"vacature {vacancy.hours_min}–{vacancy.hours_max} uur"
    if score >= 1.0:
        verdict = "past"
    elif score > 0.0:
        verdict = "past gedeeltelijk"
    else:
        verdict = "past niet"
    return f"{offer.capitalize()}; {want}: {verdict}.", ()
