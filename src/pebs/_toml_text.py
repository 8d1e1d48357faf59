"""TOML files that people write (policies, studies, simulation scenarios): read in one place, so
that whatever the text holds, a refusal is one line naming the file.

Python refuses to read an integer of more than 4,300 digits (a guard against slow conversions),
and :mod:`tomllib` lets that refusal through as a bare ``ValueError`` whose advice is meant for
programmers; here it is a refusal like any other invalid TOML, with the line of the number.

>>> parse_toml("every_months = 24", "p.toml", ValueError)
{'every_months': 24}
>>> parse_toml("every_months = " + "9" * 5000, "p.toml", ValueError)
Traceback (most recent call last):
ValueError: p.toml:1: not valid TOML (a number of 5,000 digits; at most 4,300 can be read)
"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

__all__ = ["parse_toml"]

_DIGITS = re.compile(r"[0-9][0-9_]*")
_SHOWN_CHARS = 200
"""At most this much of the parser's own message is quoted."""


def parse_toml(text: str, source: str, error: type[Exception]) -> dict[str, Any]:
    """The TOML document ``text``; ``error`` (one line naming ``source``) if it is not valid."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML ({str(exc)[:_SHOWN_CHARS]})") from None
    except ValueError:  # an integer longer than Python reads (sys.get_int_max_str_digits())
        limit = sys.get_int_max_str_digits()
        for number, line in enumerate(text.splitlines(), start=1):
            for match in _DIGITS.finditer(line):
                digits = len(match.group().replace("_", ""))
                if digits > limit:
                    raise error(
                        f"{source}:{number}: not valid TOML (a number of {digits:,} digits; at "
                        f"most {limit:,} can be read)"
                    ) from None
        raise error(f"{source}: not valid TOML (a number too long to read)") from None
