"""The proposal table: a coach proposes an own candidate to a vacancy; the outcome is recorded on it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.persistence.base import Base, new_id, utcnow

#: Status values and the transitions between them (`proposed → interview → hired | rejected`; an employer may
#: also decline straight away: `proposed → rejected`).
PROPOSAL_STATUSES = ("proposed", "interview", "hired", "rejected")
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"interview", "rejected"}),
    "interview": frozenset({"hired", "rejected"}),
    "hired": frozenset(),
    "rejected": frozenset(),
}


class Proposal(Base):
    """A candidate proposed to a vacancy.

    ``municipality`` is the candidate's municipality when proposed: coaches' access and the outcome reports
    are scoped by it, and it keeps the (person-free) counts meaningful after a candidate is erased, when
    ``candidate_id`` becomes NULL.
    """

    __tablename__ = "proposal"
    __table_args__ = (UniqueConstraint("vacancy_id", "candidate_id", name="uq_proposal_vacancy_candidate"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    vacancy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vacancy.id", ondelete="RESTRICT"))
    candidate_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("candidate.id", ondelete="SET NULL"), index=True
    )
    municipality: Mapped[str] = mapped_column(String(6), index=True)
    proposed_by: Mapped[uuid.UUID] = mapped_column()  # the coach's API key id
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
