"""Deterministic synthetic Twente data (candidates, vacancies) as API payload dicts.

Used by ``werkmatch demo`` and ``werkmatch seed``; see ``service.demo.generator``.
"""

from service.demo.generator import (
    de_postcodes,
    demo_dataset,
    generate_candidates,
    generate_vacancies,
    twente_postcodes,
    valid_bsn,
)

__all__ = [
    "de_postcodes",
    "demo_dataset",
    "generate_candidates",
    "generate_vacancies",
    "twente_postcodes",
    "valid_bsn",
]
