"""Ordinal scales: language levels and education levels.

Language levels — one ordinal scale for Dutch reference levels (Referentiekader taal, 1F–4F) and CEFR::

    A1 = 1
    A2 = 2   ≈ 1F
    B1 = 3   ≈ 2F
    B2 = 4   ≈ 3F
    C1 = 5   ≈ 4F
    C2 = 6

The 1F–4F ≈ A2–C1 correspondence is the one used by the Dutch government (Meijerink/CvTE); 1F–4F are
accepted for every language, CEFR too. A language is compared only as "meets the vacancy's minimum, or by how
many steps not". 0 means "no level" (the language is not spoken, or not required).

Education levels follow the Dutch system the DOMAIN names, on the NLQF-like ladder below. ``vmbo`` and
``mbo1`` share a step (entry level), as do ``mbo4`` and ``havo_vwo`` (both give access to hbo).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "EDUCATION_LEVELS",
    "LANGUAGE_LEVELS",
    "education_label",
    "education_rank",
    "language_label",
    "language_rank",
]

LANGUAGE_LEVELS: Mapping[str, int] = {
    "A1": 1,
    "A2": 2,
    "B1": 3,
    "B2": 4,
    "C1": 5,
    "C2": 6,
    "1F": 2,
    "2F": 3,
    "3F": 4,
    "4F": 5,
}
_LANGUAGE_NAMES_CEFR = {1: "A1", 2: "A2", 3: "B1", 4: "B2", 5: "C1", 6: "C2"}
_LANGUAGE_NAMES_NL = {2: "1F", 3: "2F", 4: "3F", 5: "4F"}

EDUCATION_LEVELS: Mapping[str, int] = {
    "none": 0,
    "vmbo": 1,
    "mbo1": 1,
    "mbo2": 2,
    "mbo3": 3,
    "mbo4": 4,
    "havo_vwo": 4,
    "hbo": 5,
    "wo": 6,
}
_EDUCATION_NAMES = {
    "none": "geen opleiding",
    "vmbo": "vmbo",
    "mbo1": "mbo 1",
    "mbo2": "mbo 2",
    "mbo3": "mbo 3",
    "mbo4": "mbo 4",
    "havo_vwo": "havo/vwo",
    "hbo": "hbo",
    "wo": "wo",
}

_CLEAN = re.compile(r"[\s\-_.]")


def language_rank(level: str | None) -> int:
    """Position of a language level on the shared scale (1–6); 0 for missing or unrecognised levels."""
    if not level:
        return 0
    return LANGUAGE_LEVELS.get(_CLEAN.sub("", level).upper(), 0)


def language_label(rank: int, *, language: str) -> str:
    """Name of a rank for display: Dutch levels as 1F–4F where they exist, otherwise CEFR."""
    if language == "nl" and rank in _LANGUAGE_NAMES_NL:
        return _LANGUAGE_NAMES_NL[rank]
    return _LANGUAGE_NAMES_CEFR.get(rank, "geen")


def education_rank(level: str | None) -> int | None:
    """Step of an education level (0–6), or ``None`` when unknown."""
    if level is None:
        return None
    return EDUCATION_LEVELS.get(level.strip().lower())


def education_label(level: str | None) -> str:
    """Dutch display name of an education level."""
    if level is None:
        return "onbekend"
    return _EDUCATION_NAMES.get(level.strip().lower(), level)
