"""Text that every supported database can store: one rule, applied to every use case's input.

Two kinds of Python text cannot be stored:

- the NUL character (U+0000): PostgreSQL text and JSON cannot hold it (SQLite can, so a value
  accepted on one database would fail on the other);
- a lone surrogate (U+D800 to U+DFFF): half of a UTF-16 pair, not a character. It has no UTF-8
  form, so it cannot be encrypted, hashed into the audit chain or sent to a database. JSON
  (``"\\ud800"``) and the command line (bytes that are not UTF-8) can produce one.

:func:`refuses_unstorable_text` wraps a use case so that every text it is given (arguments,
the fields of input dataclasses, the keys and values of mappings and sequences, at any depth)
is checked before it runs; :class:`~pebs.services.errors.InvalidFields` names each bad
input (``contact``, ``answers.item_1``) and nothing is read or written. The check is here, at the
use case, because this is the one place every entry point (API, web pages, command line) passes
through *with the caller's values*: the database layer sees identifying data only once it is
encrypted, the audit document only once it is hashed, and neither sees a search text; a check
there could not name the caller's field either.

>>> unstorable("caf\\u00e9"), unstorable("a\\x00b"), unstorable("\\ud800")
(None, 'must not contain the NUL character (U+0000)', 'contains U+D800, half of a UTF-16 \
surrogate pair and not a character; send the text as UTF-8')
>>> text_problems({"cause": "ok", "answers": {"q1": ["x", "\\x00"]}})
{'answers.q1.1': 'must not contain the NUL character (U+0000)'}
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from pebs.services.errors import InvalidFields

__all__ = [
    "refuse_unstorable",
    "refuses_unstorable_text",
    "text_problems",
    "unstorable",
    "unstorable_refusal",
]

F = TypeVar("F", bound=Callable[..., Any])

_NUL = "must not contain the NUL character (U+0000)"


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored (a message without the field name), or ``None``."""
    if "\x00" in text:
        return _NUL
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        return (
            f"contains U+{code:04X}, half of a UTF-16 surrogate pair and not a character; "
            "send the text as UTF-8"
        )
    return None


def text_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Every text in ``values`` (name -> value) that cannot be stored: path -> message.

    The fields of a dataclass given as a value are named by their own names (an input type
    such as ``NewParticipant`` is the request's fields); items of mappings and sequences add
    ``.key`` or ``.index`` to the path. A mapping key that cannot be stored is reported at the
    mapping's path.
    """
    problems: dict[str, str] = {}
    stack: list[tuple[str, Any, bool]] = [(name, v, True) for name, v in values.items()]
    while stack:
        path, value, top = stack.pop()
        if type(value) in _NO_TEXT:
            continue
        if isinstance(value, str):
            message = unstorable(value)
            if message is not None:
                problems.setdefault(path, message)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                key_text = key if isinstance(key, str) else str(key)
                message = unstorable(key_text)
                if message is not None:
                    problems.setdefault(path, f"an item name {message}")
                    continue
                stack.append((f"{path}.{key_text}", item, False))
        elif isinstance(value, (list, tuple, set, frozenset)):
            stack.extend((f"{path}.{i}", item, False) for i, item in enumerate(value))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in _field_names(type(value)):
                name = field if top else f"{path}.{field}"
                stack.append((name, getattr(value, field), False))
    return dict(sorted(problems.items()))


_NO_TEXT = frozenset({type(None), bool, int, float, Decimal, date, datetime, time, UUID, bytes})
"""Types whose values hold no text (exactly these: a subclass is looked into)."""


@functools.cache
def _field_names(dataclass: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(dataclass))


def refuse_unstorable(values: Mapping[str, Any]) -> None:
    """:class:`InvalidFields` naming every text in ``values`` that cannot be stored (see
    :func:`text_problems`); for use cases that take a list of requests, each checked alone."""
    refusal = unstorable_refusal(values)
    if refusal is not None:
        raise refusal


def unstorable_refusal(values: Mapping[str, Any]) -> InvalidFields | None:
    """The :class:`InvalidFields` naming every text in ``values`` that cannot be stored
    (:func:`text_problems`), or ``None``: what a list form of a use case gives a woman whose
    request :func:`refuses_unstorable_text` would refuse."""
    problems = text_problems(values)
    if not problems:
        return None
    return InvalidFields(
        "; ".join(f"{path}: {message}" for path, message in problems.items()), problems
    )


def refuses_unstorable_text(function: F) -> F:
    """Wrap a use case: :class:`InvalidFields` before it runs if any text it is given cannot be
    stored (see the module docstring); otherwise call it unchanged."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            arguments = signature.bind(*args, **kwargs).arguments
        except TypeError:
            return function(*args, **kwargs)  # let the call fail as it would without the check
        refuse_unstorable(arguments)
        return function(*args, **kwargs)

    checked.refuses_unstorable_text = True  # type: ignore[attr-defined]
    return checked  # type: ignore[return-value]
