"""Certificaten: does the candidate hold every certificate the vacancy requires (VCA, heftruck, VOG, ...).

Certificates are compared on normalised keys ("VCA basis", "B-VCA" → vca-basis); VCA-VOL counts for
VCA-basis. Score = share of required certificates held (1 when none is required). Each missing certificate is
an unmet hard requirement ("VCA-basis ontbreekt"), closed by the course and exam.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.types import Unmet

NAME = "certificates"


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Share of required certificates held; unmet = certificates missing."""
    n_need = block.v("n_certificates").astype(np.int64)
    held = np.rint(block.overlap("certificates", "certificates")).astype(np.int64)
    missing = np.maximum(n_need - held, 0)
    s = np.where(n_need > 0, (n_need - missing) / np.maximum(n_need, 1), 1.0)
    return FactorScores(
        np.broadcast_to(s, block.shape).astype(np.float64),
        np.broadcast_to(missing, block.shape).astype(np.int64),
    )


def pair_score(have: frozenset[str], need: frozenset[str]) -> tuple[float, int]:
    """Per-pair form of :func:`score`."""
    missing = len(need - have)
    return ((len(need) - missing) / len(need) if need else 1.0), missing


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'VCA-basis vereist: aanwezig.' / 'VCA-basis ontbreekt.'"""
    if not vacancy.certificates:
        return "Geen certificaat vereist.", ()
    labels = vacancy.certificate_labels
    missing = sorted(vacancy.certificates - candidate.certificates)
    if not missing:
        names = ", ".join(labels.get(k, k) for k in sorted(vacancy.certificates))
        return f"{names} vereist: aanwezig.", ()
    unmet = tuple(
        Unmet(code=f"certificate:{labels.get(k, k)}", detail=f"{labels.get(k, k)} ontbreekt") for k in missing
    )
    return "; ".join(u.detail for u in unmet) + ".", unmet
