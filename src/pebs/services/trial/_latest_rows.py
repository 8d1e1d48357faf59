"""The first row per owner in a given order, for one woman or a page of women, in one query.

``row_number() over (partition by owner order by ...)`` (SQLite 3.25+ and PostgreSQL): her latest
assessment, questionnaire or accepted genotype result is picked by the same statement whether one
woman is read or a worklist page of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

__all__ = ["first_per"]

T = TypeVar("T")

_CHUNK = 500
"""Owners per query (well under every backend's limit on bound parameters)."""


def first_per(
    session: Session,
    entity: type[T],
    owner: Any,
    owners: Iterable[Any],
    order_by: Sequence[Any],
    *,
    join: tuple[Any, Any] | None = None,
    where: Sequence[Any] = (),
) -> dict[Any, T]:
    """``owner value -> the first row of entity`` in ``order_by`` among those matching ``where``
    (``join``: another table the owner column or a condition needs); owners without a row are
    absent."""
    wanted = list(dict.fromkeys(owners))
    found: dict[Any, T] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rank = func.row_number().over(partition_by=owner, order_by=list(order_by))
        statement = select(entity, owner.label("owner_key"), rank.label("row_rank"))
        if join is not None:
            statement = statement.join(*join)
        inner = statement.where(owner.in_(chunk), *where).subquery()
        row = aliased(entity, inner)
        query = select(row, inner.c.owner_key).where(inner.c.row_rank == 1)
        found.update({key: value for value, key in session.execute(query)})
    return found
