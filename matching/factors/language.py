"""Taal: per language the vacancy requires, does the candidate meet the minimum, or by how many steps not.

Levels live on one ordinal scale (see :mod:`matching.levels`: A1=1, A2≈1F=2, B1≈2F=3, B2≈3F=4, C1≈4F=5,
C2=6). Per required language the score is 1 when met, else 1 − ``language_step_penalty`` × steps short (not
below 0); the factor is the mean over required languages (1 when nothing is required). Every language below
its minimum is an unmet hard requirement ("Nederlands 2F vereist, heeft 1F"), closed by a language course.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matching.encoding import EncodedCandidate, EncodedVacancy
from matching.factors import FactorScores
from matching.index import PairBlock
from matching.levels import language_label
from matching.types import Unmet

NAME = "language"

LANGUAGE_NAMES = {"nl": "Nederlands", "de": "Duits", "en": "Engels", "fr": "Frans", "pl": "Pools"}


def score(block: PairBlock, thresholds: Mapping[str, float]) -> FactorScores:
    """Mean per-language score over the vacancy's required languages; unmet = languages below minimum."""
    step = thresholds["language_step_penalty"]
    total = np.zeros(block.shape, dtype=np.float64)
    count = np.zeros(block.shape, dtype=np.int64)
    unmet = np.zeros(block.shape, dtype=np.int64)
    for column in block.required_language_columns():
        required = block.v_levels(column)
        gap = np.maximum(required.astype(np.int16) - block.c_levels(column), 0)
        is_required = required > 0
        total = total + np.where(is_required, np.maximum(1.0 - step * gap, 0.0), 0.0)
        count = count + is_required
        unmet = unmet + (gap > 0)  # gap > 0 implies the language is required
    s = np.where(count > 0, total / np.maximum(count, 1), 1.0)
    return FactorScores(s, unmet)


def pair_score(have: Mapping[str, int], required: Mapping[str, int], *, step: float) -> tuple[float, int]:
    """Per-pair form of :func:`score` (used by the reference scorer); languages in column order."""
    total = 0.0
    count = 0
    unmet = 0
    for lang, minimum in required.items():
        gap = max(minimum - have.get(lang, 0), 0)
        total += max(1.0 - step * gap, 0.0)
        count += 1
        unmet += gap > 0
    return (total / count if count else 1.0), unmet


def language_name(code: str) -> str:
    """Dutch name of a language code."""
    return LANGUAGE_NAMES.get(code, code.upper())


def explain(
    candidate: EncodedCandidate,
    vacancy: EncodedVacancy,
    *,
    score: float,
    distance_km: float,
    thresholds: Mapping[str, float],
) -> tuple[str, tuple[Unmet, ...]]:
    """'Nederlands 2F vereist, heeft 1F (1 niveau te laag).'"""
    if not vacancy.languages:
        return "Geen taaleis.", ()
    parts: list[str] = []
    unmet: list[Unmet] = []
    for lang, minimum in sorted(vacancy.languages.items()):
        have = candidate.languages.get(lang, 0)
        name = language_name(lang)
        need = language_label(minimum, language=lang)
        if have >= minimum:
            parts.append(f"{name} {need} vereist: voldoet ({language_label(have, language=lang)})")
            continue
        got = language_label(have, language=lang) if have else "geen"
        steps = minimum - have
        text = f"{name} {need} vereist, heeft {got}"
        parts.append(f"{text} ({steps} niveau{'s' if steps > 1 else ''} te laag)")
        unmet.append(Unmet(code=f"language:{lang}:{need}", detail=text))
    return "; ".join(parts) + ".", tuple(unmet)
