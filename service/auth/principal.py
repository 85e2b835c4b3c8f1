"""Who is calling: the authenticated principal that every repository scopes its queries by."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    """The four roles of DOMAIN.md."""

    COACH = "coach"
    EMPLOYER = "employer"
    ADMIN = "admin"
    BATCH = "batch"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated API key: its id, role and what it is bound to (municipalities or one employer)."""

    key_id: uuid.UUID
    role: Role
    municipalities: frozenset[str] = field(default_factory=frozenset)
    employer_id: uuid.UUID | None = None

    @property
    def is_coach(self) -> bool:
        return self.role is Role.COACH

    @property
    def is_employer(self) -> bool:
        return self.role is Role.EMPLOYER
