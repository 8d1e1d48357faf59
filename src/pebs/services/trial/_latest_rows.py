"""The first row per owner in a given order, for one woman or a page of women, in one query.

``row_number() over (partition by owner order by ...)`` (SQLite 3.25+ and PostgreSQL): her latest
assessment, questionnaire or accepted genotype result is picked by the same statement whether one
woman is read or a worklist page of them. A :class:`FirstPer` builds its statement once (the
owners are one expanding parameter), so a use case pays only for running it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

__all__ = ["FirstPer"]

T = TypeVar("T")

_CHUNK = 500
"""Owners per query (well under every backend's limit on bound parameters)."""


class FirstPer(Generic[T]):
    """``owner value -> the first row of entity`` in ``order_by`` among those matching ``where``
    (``join``: another table the owner column or a condition needs)."""

    def __init__(
        self,
        entity: type[T],
        owner: Any,
        order_by: Sequence[Any],
        *,
        join: tuple[Any, Any] | None = None,
        where: Sequence[Any] = (),
    ) -> None:
        rank = func.row_number().over(partition_by=owner, order_by=list(order_by))
        statement = select(entity, owner.label("owner_key"), rank.label("row_rank"))
        if join is not None:
            statement = statement.join(*join)
        inner = statement.where(owner.in_(bindparam("owners", expanding=True)), *where)
        ranked = inner.subquery()
        self._query = select(aliased(entity, ranked), ranked.c.owner_key).where(
            ranked.c.row_rank == 1
        )

    def __call__(self, session: Session, owners: Iterable[Any]) -> dict[Any, T]:
        """The first row of each of ``owners``; owners without a row are absent."""
        wanted = list(dict.fromkeys(owners))
        found: dict[Any, T] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found.update(dict((key, row) for row, key in session.execute(
                self._query, {"owners": chunk}
            )))  # fmt: skip
        return found
