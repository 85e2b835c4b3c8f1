"""Repository base: every query starts from a statement already scoped to what the caller may see."""

from __future__ import annotations

import uuid
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.persistence.models import ChangeEvent

ModelT = TypeVar("ModelT")


class RepositoryBase(Generic[ModelT]):
    """Shared paging and change recording; subclasses define `readable_statement`."""

    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_readable(self, statement: Select[tuple[ModelT]], object_id: uuid.UUID) -> ModelT | None:
        return self.session.scalars(statement.where(self.model.id == object_id)).one_or_none()  # type: ignore[attr-defined]

    def paginate(
        self, statement: Select[tuple[ModelT]], *, limit: int, offset: int, order_by: Any
    ) -> tuple[list[ModelT], int]:
        total = (
            self.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
        )
        items = list(self.session.scalars(statement.order_by(*order_by).limit(limit).offset(offset)))
        return items, int(total)

    def record_change(self, entity: str, entity_id: uuid.UUID) -> None:
        """Bump the change counter that keeps every process's match index fresh."""
        self.session.add(ChangeEvent(entity=entity, entity_id=entity_id))
