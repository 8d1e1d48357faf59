"""English messages read back: the values of a text the code wrote in English from a catalogue
message, so that the same message can be written again in another language.

Some texts are stored in English as the code wrote them (a plan's notes, the reasons of the audit
trail); the English catalogue holds each such message exactly as it is written, with ``{name}``
fields, and :func:`read_back` finds the field values in a stored text.

>>> read_back("plan_note.ends", "Routine screening under fr ends at her 75th birthday "
...           "(2031-05-02).")
{'policy': 'fr', 'stop_ordinal': '75th', 'stop': '2031-05-02'}
>>> read_back("plan_note.ends", "something else") is None
True
"""

from __future__ import annotations

import re
import string
from functools import cache

from pebs.i18n.catalogue import DEFAULT_LANGUAGE, catalogues

__all__ = ["read_back"]


@cache
def _pattern(key: str) -> re.Pattern[str]:
    """The English message ``key`` as a pattern that reads its fields back (a field given twice
    must have the same value both times)."""
    english = catalogues()[DEFAULT_LANGUAGE].fallback[key]
    parts, seen = [], set()
    for literal, name, _, _ in string.Formatter().parse(english):
        parts.append(re.escape(literal))
        if name is None:
            continue
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def read_back(key: str, text: str) -> dict[str, str] | None:
    """The field values of ``text`` written from the English message ``key``; ``None`` when
    ``text`` is not that message."""
    found = _pattern(key).match(text)
    return None if found is None else found.groupdict()
