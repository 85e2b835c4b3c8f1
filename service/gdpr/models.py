"""The anonymised trace an erased candidate leaves for reports: counts survive, the person does not."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from service.persistence.base import Base, new_id, utcnow


class CandidateTombstone(Base):
    """One row per erased candidate: municipality, sectors, last status and dates only.

    No candidate id, name, BSN, postcode, competences or special-category data: the row cannot be linked back
    to the person (its own id is new), yet "how many candidates did Enschede have in logistiek, how many were
    placed" still adds up after erasure. Proposal outcomes survive separately (proposal.candidate_id becomes
    NULL)."""

    __tablename__ = "candidate_tombstone"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    municipality: Mapped[str] = mapped_column(String(6), index=True)
    sectors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    registered_on: Mapped[date] = mapped_column(Date)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(16))  # request | retention
