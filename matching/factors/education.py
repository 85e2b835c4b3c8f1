"""Opleiding: does the candidate's education reach the vacancy's minimum level.

Education levels are steps on one ladder (:mod:`matching.levels`). No minimum: score 1. Minimum met: 1.
Below it: 1 − ``education_step_penalty`` per step short (not below 0). Candidate's level unknown: 0.5, so
missing data neither wins nor loses much. A soft factor: diplomas are often recognised or replaced by
experience (statushouders!), so a lower level lowers the score but is not an unmet hard requirement.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.levels import education_label
from matching.types import Unmet

NAME = "education"
UNKNOWN = 0.5


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Education minimum met, or by how many steps not."""
    step = thresholds["education_step_penalty"]
    need = block.v("education").astype(np.int64)
    have = block.c("education").astype(np.int64)
    short = np.maximum(need - have, 0)
    s = np.where(need < 0, 1.0, np.where(have < 0, UNKNOWN, np.maximum(1.0 - step * short, 0.0)))
    return FactorScores(np.broadcast_to(s, block.shape).astype(np.float64))


def pair_score(have: int | None, need: int | None, *, step: float) -> float:
    """Per-pair form of :func:`score`."""
    if need is None:
        return 1.0
    if have is None:
        return UNKNOWN
    return max(1.0 - step * max(need - have, 0), 0.0)


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'Minimaal mbo 2 gevraagd; kandidaat heeft vmbo.'"""
    if vacancy.education is None:
        return "Geen opleidingseis.", ()
    need = education_label(vacancy.education_level)
    if candidate.education is None:
        return f"Minimaal {need} gevraagd; opleiding van kandidaat onbekend.", ()
    have = education_label(candidate.education_level)
    if candidate.education >= vacancy.education:
        return f"Minimaal {need} gevraagd; kandidaat heeft {have}: voldoet.", ()
    return (
        f"Minimaal {need} gevraagd; kandidaat heeft {have} "
        "(lager, diploma-erkenning of ervaring kan tellen).",
        (),
    )
