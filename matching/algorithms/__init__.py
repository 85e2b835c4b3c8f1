"""Algorithms: versioned, serialisable weightings of the factors, and a registry.

An algorithm is data, not code: a name, a version, one weight per factor (points out of 100) and the
thresholds the factors read. Every :class:`~matching.types.MatchResult` list is produced by exactly one
algorithm, and the service stores its name and version with every match, so a ranking can always be traced
back to the weights that made it. Changing any weight or threshold means a new version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_ALGORITHM",
    "AlgorithmConfig",
    "get_algorithm",
    "list_algorithms",
    "register_algorithm",
]

#: The factors every algorithm weighs, in explanation order.
FACTOR_ORDER: tuple[str, ...] = (
    "competences",
    "occupation",
    "language",
    "travel",
    "hours",
    "education",
    "driving_licences",
    "certificates",
)


class _FloatMap(Mapping[str, float]):
    """A read-only, hashable str→float mapping (weights, thresholds)."""

    __slots__ = ("_items",)

    def __init__(self, value: Mapping[str, float]) -> None:
        self._items = {k: float(v) for k, v in value.items()}

    def __getitem__(self, key: str) -> float:
        return self._items[key]

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return repr(self._items)

    def __reduce__(self) -> tuple[type[_FloatMap], tuple[dict[str, float]]]:
        return (_FloatMap, (self._items,))


@dataclass(frozen=True, slots=True)
class AlgorithmConfig:
    """A named, versioned set of factor weights (summing to 100 points) and thresholds.

    Thresholds (all with defaults in :data:`DEFAULT_THRESHOLDS`):

    ``related_credit``
        credit for a required competence the candidate does not have but has a closely related one (0–1).
    ``required_share``
        share of the competence score that comes from required competences when desired ones exist too.
    ``inferred_cap``
        a vacancy without competence lists is matched on competences inferred from its occupation; coverage
        is measured against at most this many of them (an occupation lists far more skills than one job asks).
    ``profile_share``
        share of the competence score that comes from the profile fit (which share of the candidate's
        competences the vacancy's ESCO occupation draws on) when the vacancy is linked to an occupation.
    ``occupation_same`` / ``occupation_unit_group`` / ``occupation_minor_group`` / ``occupation_sub_major``
        occupation-fit score for the same ESCO concept, same ISCO unit group (4 digits), minor group (3) and
        sub-major group (2).
    ``experience_factor``
        an occupation known only from experience (not desired) counts this much of a desired one.
    ``max_travel_km``
        a sensible maximum commute, whatever the candidate's own radius.
    ``travel_score_at_limit``
        travel score at the edge of the allowed distance (it is 1 at 0 km and falls linearly).
    ``language_step_penalty`` / ``education_step_penalty``
        score lost per level below the vacancy's minimum.
    ``unmet_multiplier``
        the score is multiplied by this for every unmet hard requirement (travel radius, work country,
        language minimum, driving licence, certificate). Results with unmet requirements also rank after all
        results that meet them; they are still shown.
    """

    name: str
    version: str
    weights: Mapping[str, float]
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weights = _FloatMap(self.weights)
        missing = set(FACTOR_ORDER) - set(weights)
        unknown = set(weights) - set(FACTOR_ORDER)
        if missing or unknown:
            raise ValueError(
                f"weights must name exactly {FACTOR_ORDER}; missing {missing}, unknown {unknown}"
            )
        if any(w < 0 for w in weights.values()):
            raise ValueError("weights must be non-negative")
        if abs(sum(weights.values()) - 100.0) > 1e-9:
            raise ValueError(f"weights must add up to 100, not {sum(weights.values())}")
        thresholds = dict(DEFAULT_THRESHOLDS)
        unknown_t = set(self.thresholds) - set(DEFAULT_THRESHOLDS)
        if unknown_t:
            raise ValueError(f"unknown thresholds: {sorted(unknown_t)}")
        thresholds.update(self.thresholds)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "thresholds", _FloatMap(thresholds))

    @property
    def key(self) -> str:
        """``name@version``: how results and stored matches name the algorithm."""
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (``GET /algorithms`` can return it as is)."""
        return {
            "name": self.name,
            "version": self.version,
            "weights": {k: self.weights[k] for k in FACTOR_ORDER},
            "thresholds": dict(sorted(self.thresholds.items())),
        }

    def to_json(self) -> str:
        """Canonical JSON (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlgorithmConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=str(data["name"]),
            version=str(data["version"]),
            weights=dict(data["weights"]),
            thresholds=dict(data.get("thresholds", {})),
        )


DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "related_credit": 0.5,
    "required_share": 0.75,
    "inferred_cap": 8.0,
    "profile_share": 0.75,
    "occupation_same": 1.0,
    "occupation_unit_group": 0.625,
    "occupation_minor_group": 0.25,
    "occupation_sub_major": 0.0625,
    "experience_factor": 0.875,
    "max_travel_km": 100.0,
    "travel_score_at_limit": 0.5,
    "language_step_penalty": 0.25,
    "education_step_penalty": 0.25,
    "unmet_multiplier": 0.35,
}

DEFAULT_ALGORITHM = AlgorithmConfig(
    name="werkmatch-weighted",
    version="1.0.0",
    weights={
        "competences": 35.0,
        "occupation": 40.0,
        "language": 6.0,
        "travel": 5.0,
        "hours": 4.0,
        "education": 4.0,
        "driving_licences": 3.0,
        "certificates": 3.0,
    },
)

_REGISTRY: dict[str, AlgorithmConfig] = {}


def register_algorithm(config: AlgorithmConfig) -> AlgorithmConfig:
    """Add an algorithm to the registry; re-registering name@version with other settings is an error."""
    existing = _REGISTRY.get(config.key)
    if existing is not None and existing != config:
        raise ValueError(f"{config.key} is already registered with other settings; bump the version")
    _REGISTRY[config.key] = config
    return config


def get_algorithm(name: str | None = None, version: str | None = None) -> AlgorithmConfig:
    """An algorithm by name (and version; newest registered version when omitted). No name: the default."""
    if name is None:
        return DEFAULT_ALGORITHM
    if version is not None:
        try:
            return _REGISTRY[f"{name}@{version}"]
        except KeyError:
            raise KeyError(f"unknown algorithm {name}@{version}") from None
    versions = [c for c in _REGISTRY.values() if c.name == name]
    if not versions:
        raise KeyError(f"unknown algorithm {name}")
    return max(versions, key=lambda c: tuple(int(p) if p.isdigit() else 0 for p in c.version.split(".")))


def list_algorithms() -> list[AlgorithmConfig]:
    """All registered algorithms, sorted by name and version."""
    return sorted(_REGISTRY.values(), key=lambda c: (c.name, c.version))


register_algorithm(DEFAULT_ALGORITHM)
