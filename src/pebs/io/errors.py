"""Errors raised by the file adapters; entry points map them to messages and exit codes.

Messages quote what they found in a file through :func:`quoted` (a field may hold megabytes:
at most about :data:`QUOTE_LIMIT` characters of it are shown) and name a bad field with
:func:`column_error`.
"""

from __future__ import annotations

from pathlib import Path

QUOTE_LIMIT = 80
"""At most this many characters of a value from a file appear in an error message."""


class InputFormatError(ValueError):
    """A file can be read but its content cannot be used (missing column, non-numeric value...).

    The message names the file, the line and the column where that helps.
    """


class FileAccessError(OSError):
    """A file cannot be opened, read or written (missing, a directory, no permission...)."""


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text``, or its first ``limit`` characters and how long it is.

    >>> cut("Age1st"), cut("x" * 100, 5)
    ('Age1st', 'xxxxx... (100 characters)')
    """
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value found in a file, quoted (``repr``) and cut to about ``limit`` characters.

    >>> quoted("twenty")
    "'twenty'"
    >>> quoted("9" * 50_000_000, limit=8)
    "'99999999'... (50,000,000 characters)"
    >>> len(quoted("9" * 50_000_000)) < QUOTE_LIMIT + 30
    True
    """
    text = str(value)
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


def column_error(
    path: Path | str, line: int, column: str, value: object, why: str
) -> InputFormatError:
    """The :class:`InputFormatError` of one bad field: file, line, column, value (cut) and
    ``why`` (which starts with its own punctuation, e.g. ``", which is not a number"``).

    >>> str(column_error("w.csv", 3, "Age1st", "twenty", ", which is not a number"))
    "w.csv: line 3: column 'Age1st' has 'twenty', which is not a number"
    """
    return InputFormatError(
        f"{path}: line {line}: column {quoted(column)} has {quoted(value)}{why}"
    )
