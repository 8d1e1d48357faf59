"""``IN`` lists written into the statement, for the list forms' lookups on growing tables.

With a parameter per value, a list of 200 women has the same statement text at every call, so
PostgreSQL's client (psycopg) prepares it after five calls and the server may keep the generic
plan it made then. During an import that plan was made for tables of a few hundred women
(sequential scans) and is still used at tens of thousands: the women's lookup of a list took
27 times longer at the end of a 10,000-woman import than at its start, growing with the table.
Values written as escaped literals (``literal_execute``) make each list a statement of its own,
planned for the tables as they are; SQLite plans every statement anyway.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, bindparam

__all__ = ["inline_list"]


def inline_list(name: str) -> BindParameter:
    """An expanding parameter ``name`` whose values are rendered as literals at execution."""
    return bindparam(name, expanding=True, literal_execute=True)
