"""Optimistic locking: `ETag: "<version>"` on reads, `If-Match` on updates; a stale version is a 409."""

from __future__ import annotations

from service.errors import Conflict, InvalidInput


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version in an `If-Match` header (`"3"`, `W/"3"` or `3`); None when absent or `*`."""
    if header is None:
        return None
    value = header.strip()
    if value in ("", "*"):
        return None
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit() or len(value) > 12:
        raise InvalidInput(
            "If-Match must be the ETag or version of the resource",
            errors=[{"loc": ["header", "If-Match"], "msg": "not a version", "type": "if_match"}],
        )
    return int(value)


def check_version(*, expected: int | None, actual: int) -> None:
    if expected is not None and expected != actual:
        raise Conflict(f"The resource was changed (version {actual}); reload it and apply your change again.")
