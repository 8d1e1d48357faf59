"""Message catalogues: every language's words, from small TOML files in the package.

``locales/<code>/`` holds one or more TOML files of flat ``"key" = "text"`` entries (``{name}``
fields are filled by :meth:`Catalogue.text`); the files of one language are merged, and a key
given twice is an error. ``pages.toml`` is the web pages'; other files hold the words the pages,
letters and command line share (plan reasons, exams, levels, audit labels, letter wording).
English's ``pages.toml`` carries a ``[meta]``-style ``meta = {name, direction}`` entry, as every
language does. English is complete and is the fallback of a key another language lacks; a key
missing from English too is a bug: :class:`KeyError`.

>>> catalogue = catalogues()
>>> catalogue["fr"].text("nav.participants")
'Participantes'
>>> catalogue["he"].direction, catalogue["he"].text("nav.participants") != ""
('rtl', True)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pebs.trial.vocabularies import LANGUAGES

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Catalogue", "catalogues"]

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Catalogue:
    """The messages of one language, with English as the fallback for missing keys."""

    code: str
    name: str
    """The language's own name (``Français``)."""
    direction: str
    """``ltr`` or ``rtl``."""
    messages: dict[str, str] = field(repr=False)
    fallback: dict[str, str] = field(repr=False)

    def text(self, key: str, **values: Any) -> str:
        """The message ``key``, formatted with ``values``; English if this language lacks it."""
        message = self.messages.get(key)
        if message is None:
            message = self.fallback[key]  # KeyError: a key missing from English is a bug
        return message.format(**values) if values else message

    def has(self, key: str) -> bool:
        return key in self.messages or key in self.fallback

    def get(self, key: str, default: str) -> str:
        """The message ``key`` if this language or English has it, else ``default``."""
        return self.messages.get(key) or self.fallback.get(key) or default


def _read(code: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(meta, messages) of one language, merged from its files."""
    folder = resources.files("pebs.i18n").joinpath("locales", code)
    meta: dict[str, Any] = {}
    messages: dict[str, str] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".toml"):
            continue
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        meta |= document.get("meta", {})
        for key, value in document.items():
            if not isinstance(value, str):
                continue
            if key in messages:
                raise ValueError(f"locales/{code}/{path.name}: key {key!r} is given twice")
            messages[key] = value
    return meta, messages


@cache
def catalogues() -> dict[str, Catalogue]:
    """Every language's catalogue, read once from the package."""
    fallback = _read(DEFAULT_LANGUAGE)[1]
    result = {}
    for code in LANGUAGES:
        meta, messages = _read(code)
        direction = meta.get("direction", "ltr")
        if direction not in ("ltr", "rtl"):
            raise ValueError(f"locales/{code}: meta.direction must be ltr or rtl")
        result[code] = Catalogue(code, meta.get("name", code), direction, messages, fallback)
    return result
