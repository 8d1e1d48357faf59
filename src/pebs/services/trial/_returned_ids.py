"""The row ids of a multi-row insert, matched to the rows given.

A multi-row ``INSERT ... RETURNING`` returns its rows in no promised order (SQLite's documentation
of ``RETURNING`` says so; SQLAlchemy then falls back to one statement per row when asked to sort
them), so each returned row is found by the values it was given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

__all__ = ["ids_in_order"]


def ids_in_order(rows: Iterable[Sequence[Any]], keys: Sequence[Hashable]) -> list[int]:
    """The row id of each of ``keys``, in their order, from an insert's returned rows (the id,
    then the inserted values that make the key); rows given equal values are interchangeable
    and get their ids in ascending order."""
    pool: defaultdict[Hashable, list[int]] = defaultdict(list)
    for row_id, *key in rows:
        pool[tuple(key)].append(row_id)
    for ids in pool.values():
        ids.sort(reverse=True)
    return [pool[key].pop() for key in keys]
