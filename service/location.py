"""Postcode resolution at the service boundary: an unknown postcode is a 422, never a silent (0, 0)."""

from __future__ import annotations

from matching.geo import Location, locate, normalise_postcode
from service.errors import InvalidInput


def resolve_postcode(postcode: str, country: str, *, field: str = "postcode") -> Location:
    """Canonicalise and locate a postcode or raise a 422 naming the field."""
    canonical = normalise_postcode(postcode, country)
    if canonical is None:
        raise InvalidInput(
            f"{field} is not a valid postcode for {country}",
            errors=[
                {"loc": ["body", field], "msg": f"not a valid {country} postcode", "type": "postcode_format"}
            ],
        )
    location = locate(canonical, country)
    if location is None:
        raise InvalidInput(
            f"{field} {canonical} is unknown in {country}",
            errors=[
                {"loc": ["body", field], "msg": f"unknown {country} postcode", "type": "postcode_unknown"}
            ],
        )
    return location


def location_postcode(postcode: str, country: str) -> str:
    """The canonical spelling of an already resolved postcode ("7601ab" -> "7601 AB")."""
    return normalise_postcode(postcode, country) or postcode
