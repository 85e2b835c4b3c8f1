"""Rijbewijs: does the candidate hold every driving licence category the vacancy requires.

A held category counts for the categories it presupposes (CE includes C, C1 and B; C includes B; B includes
AM). Score = share of required categories held (1 when none is required). Every missing category is an unmet
hard requirement ("Rijbewijs CE ontbreekt").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy, licence_names
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.types import Unmet

NAME = "driving_licences"


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Share of required licence categories held; unmet = categories missing."""
    need = block.v("licences")
    have = block.c("licences")
    n_need = np.bitwise_count(need).astype(np.int64)
    missing = np.bitwise_count(need & ~have).astype(np.int64)
    s = np.where(n_need > 0, (n_need - missing) / np.maximum(n_need, 1), 1.0)
    return FactorScores(
        np.broadcast_to(s, block.shape).astype(np.float64),
        np.broadcast_to(missing, block.shape).astype(np.int64),
    )


def pair_score(have: int, need: int) -> tuple[float, int]:
    """Per-pair form of :func:`score`."""
    n_need = need.bit_count()
    missing = (need & ~have).bit_count()
    return ((n_need - missing) / n_need if n_need else 1.0), missing


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'Rijbewijs B vereist: aanwezig.' / 'Rijbewijs CE ontbreekt.'"""
    needed = licence_names(vacancy.licences)
    if not needed:
        return "Geen rijbewijs vereist.", ()
    missing = licence_names(vacancy.licences & ~candidate.licences)
    if not missing:
        return f"Rijbewijs {', '.join(needed)} vereist: aanwezig.", ()
    unmet = tuple(Unmet(code=f"licence:{m}", detail=f"Rijbewijs {m} ontbreekt") for m in missing)
    return "; ".join(u.detail for u in unmet) + ".", unmet
