"""Factors: named, documented units that score one profile against many and explain one pair.

Every factor module exposes

``NAME``
    the key used in algorithm weights and explanations;
``score(block, thresholds) -> FactorScores``
    vectorised over a :class:`~matching.index.PairBlock` (one candidate × many vacancies, one vacancy × many
    candidates, or a grid); scores in [0, 1] plus, for factors that carry hard requirements, the number of
    unmet hard requirements per pair;
``explain(candidate, vacancy, *, score, distance_km, thresholds) -> (detail, unmet)``
    the plain-Dutch detail for one pair and the unmet hard requirements, each with what would close the gap.

The module docstring of each factor is its explanation of itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import numpy.typing as npt

__all__ = ["FACTORS", "FactorScores", "get_factor"]


@dataclass(frozen=True, slots=True)
class FactorScores:
    """Vectorised output of a factor: scores in [0, 1] and (optionally) unmet hard requirements per pair."""

    score: npt.NDArray[np.float64]
    unmet: npt.NDArray[np.int64] | None = None


def _load() -> Mapping[str, ModuleType]:
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

    modules = (competences, occupation, language, travel, hours, education, driving_licences, certificates)
    return {m.NAME: m for m in modules}


FACTORS: Mapping[str, ModuleType] = _load()


def get_factor(name: str) -> ModuleType:
    """The factor module registered under ``name``."""
    return FACTORS[name]
