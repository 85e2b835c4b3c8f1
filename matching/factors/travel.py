"""Reisafstand en werkland: is the vacancy within reach, in a country where the candidate will work.

The allowed distance is the candidate's own radius, capped at a sensible maximum (``max_travel_km``). Within
it the score falls linearly from 1 at the candidate's home to ``travel_score_at_limit`` at the limit; beyond
it the score is 0. Distances are great-circle km between postcode centres (a proxy: no public-transport
travel times are available offline). Two hard requirements: the distance limit, and the country — a vacancy
across the border counts only if the candidate's work countries include that country (GrensWerk).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.types import Unmet

NAME = "travel"

COUNTRY_NAMES = {"NL": "Nederland", "DE": "Duitsland", "BE": "België"}


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Linear decay within the allowed distance; unmet = out of range + country not a work country."""
    at_limit = thresholds["travel_score_at_limit"]
    distance = block.distance_km()
    limit = block.c("limit_km")
    allowed = (block.c("countries") & block.v("country")) != 0
    within = distance <= limit
    ratio = np.where(limit > 0, distance / np.where(limit > 0, limit, 1.0), 0.0)
    s = np.where(allowed & within, 1.0 - (1.0 - at_limit) * ratio, 0.0)
    unmet = (~allowed).astype(np.int64) + (~within).astype(np.int64)
    return FactorScores(np.broadcast_to(s, block.shape), np.broadcast_to(unmet, block.shape))


def pair_score(distance_km: float, limit_km: float, *, allowed: bool, at_limit: float) -> tuple[float, int]:
    """Per-pair form of :func:`score`."""
    within = distance_km <= limit_km
    ratio = distance_km / limit_km if limit_km > 0 else 0.0
    s = 1.0 - (1.0 - at_limit) * ratio if (allowed and within) else 0.0
    return s, int(not allowed) + int(not within)


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'18,4 km (max. 25 km): binnen bereik.'"""
    limit = min(float(candidate.max_travel_km), thresholds["max_travel_km"])
    km = f"{distance_km:.1f}".replace(".", ",")
    lim = f"{limit:g}".replace(".", ",")
    unmet: list[Unmet] = []
    parts = [f"{km} km (max. {lim} km)"]
    if vacancy.country not in candidate.work_countries:
        country = COUNTRY_NAMES.get(vacancy.country, vacancy.country)
        text = f"Vacature in {country}; kandidaat wil daar niet werken"
        unmet.append(Unmet(code=f"work_country:{vacancy.country}", detail=text))
        parts.append(f"vacature in {country}; kandidaat wil daar niet werken")
    if distance_km > limit:
        text = f"Reisafstand {km} km, maximaal {lim} km"
        unmet.append(Unmet(code="travel_distance", detail=text))
        parts.append("buiten bereik")
    elif not unmet:
        parts.append("binnen bereik")
    return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "") + ".", tuple(unmet)
