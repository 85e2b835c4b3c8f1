"""Postcode → coordinates and distances, from shipped GeoNames data (``data/geo/``).

Dutch postcodes resolve at PC4 level (a PC6 such as ``7601 AB`` resolves through its PC4 ``7601``), German
postcodes (PLZ) at their five digits. An unknown or malformed postcode gives ``None`` — never ``(0, 0)`` —
so the service can answer it as an input error.

The gazetteer is loaded lazily on first use and cached for the process (about 15k rows, a few milliseconds).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_KM",
    "Location",
    "haversine_km",
    "locate",
    "municipality_code",
    "normalise_postcode",
]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius

COUNTRIES = ("NL", "DE")


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved postcode: canonical postcode, country and the coordinates of its area centre."""

    postcode: str
    country: str
    lat: float
    lon: float
    place: str


@dataclass(frozen=True, slots=True)
class _Entry:
    lat: float
    lon: float
    place: str
    municipality: str
    municipality_code: str


# NL: four digits (no leading zero) optionally followed by two letters. SA, SD and SS are never issued.
_NL = re.compile(r"^([1-9][0-9]{3})\s*([A-Z]{2})?$")
_NL_UNUSED_LETTERS = frozenset({"SA", "SD", "SS"})
# DE: five digits, optionally written with a country prefix ("D-48599", "DE 48599"). 00xxx is not issued.
_DE = re.compile(r"^(?:DE?[\s-]?)?([0-9]{5})$")


def normalise_postcode(postcode: str, country: str) -> str | None:
    """Canonical form of a postcode, or ``None`` if it is malformed for that country.

    NL: ``"7601ab"`` → ``"7601 AB"``; a bare PC4 ``"7601"`` is allowed. DE: ``"D-48599"`` → ``"48599"``.
    Whether the postcode exists is :func:`locate`'s question, not this one's.
    """
    if not isinstance(postcode, str) or not isinstance(country, str):
        return None
    text = " ".join(postcode.strip().upper().split())
    cc = country.strip().upper()
    if cc == "NL":
        m = _NL.match(text)
        if m is None:
            return None
        digits, letters = m.group(1), m.group(2)
        if letters is None:
            return digits
        if letters in _NL_UNUSED_LETTERS:
            return None
        return f"{digits} {letters}"
    if cc == "DE":
        m = _DE.match(text)
        if m is None or m.group(1).startswith("00"):
            return None
        return m.group(1)
    return None


def _read(country: str) -> dict[str, _Entry]:
    path = resources.files("data").joinpath(f"geo/postcodes_{country.lower()}.csv")
    table: dict[str, _Entry] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)  # header: postcode,lat,lon,place,municipality,municipality_code
        for pc, lat, lon, place, municipality, code in reader:
            table[pc] = _Entry(float(lat), float(lon), place, municipality, code)
    return table


@cache
def _gazetteer(country: str) -> dict[str, _Entry]:
    return _read(country)


def _entry(postcode: str, country: str) -> tuple[str, _Entry] | None:
    canonical = normalise_postcode(postcode, country)
    if canonical is None:
        return None
    cc = country.strip().upper()
    key = canonical[:4] if cc == "NL" else canonical
    entry = _gazetteer(cc).get(key)
    return None if entry is None else (canonical, entry)


def locate(postcode: str, country: str) -> Location | None:
    """Resolve a postcode to the coordinates of its area, or ``None`` if malformed or unknown.

    A Dutch PC6 resolves through its PC4 (the shipped data is PC4-level); the returned ``postcode`` is the
    canonical form of what was asked (``"7601 AB"``), the coordinates those of PC4 ``7601``.
    """
    found = _entry(postcode, country)
    if found is None:
        return None
    canonical, entry = found
    return Location(
        postcode=canonical, country=country.strip().upper(), lat=entry.lat, lon=entry.lon, place=entry.place
    )


def municipality_code(postcode: str, country: str) -> str | None:
    """CBS municipality code (``GM0141``) for a Dutch postcode, the Kreis key for a German one, else None."""
    found = _entry(postcode, country)
    if found is None or not found[1].municipality_code:
        return None
    return found[1].municipality_code


FloatArray = npt.NDArray[np.float64]


@overload
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def haversine_km(
    lat1: float | FloatArray, lon1: float | FloatArray, lat2: float | FloatArray, lon2: float | FloatArray
) -> FloatArray | float: ...


def haversine_km(
    lat1: float | FloatArray, lon1: float | FloatArray, lat2: float | FloatArray, lon2: float | FloatArray
) -> FloatArray | float:
    """Great-circle distance in km; numpy-vectorised (scalars or broadcastable arrays in, same shape out)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi * 0.5) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb * 0.5) ** 2
    d = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    if np.ndim(d) == 0:
        return float(d)
    return np.asarray(d, dtype=np.float64)
