"""Translations of the pages: one small TOML message catalogue per language, no Babel.

Each ``locales/<code>.toml`` holds flat ``"key" = "text"`` entries (``str.format`` fields such as
``{n}`` allowed) and a ``[meta]`` table with the language's own name and its direction. English
and French are complete; Italian, Dutch, Hebrew and Spanish are started and fall back to English
for each missing key (Hebrew sets ``dir="rtl"``). A key missing from English too is a bug: it
raises :class:`KeyError` (a test checks that every key the templates use exists in English and
French).

>>> catalogue = catalogues()
>>> catalogue["fr"].text("nav.participants")
'Participantes'
>>> catalogue["he"].direction, catalogue["he"].text("nav.participants") != ""
('rtl', True)
>>> negotiate("fr-BE,fr;q=0.9,en;q=0.5", None)
'fr'
>>> negotiate("de-DE", None), negotiate("de-DE", "it")
('en', 'it')
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Catalogue", "catalogues", "negotiate"]

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "fr", "it", "nl", "he", "es")
"""Languages with a catalogue, in the order the language menu shows them."""


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


def _read(code: str) -> dict[str, Any]:
    path = resources.files("pebs.web").joinpath("locales", f"{code}.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


@cache
def catalogues() -> dict[str, Catalogue]:
    """Every language's catalogue, read once from the package."""
    english = _read(DEFAULT_LANGUAGE)
    fallback = {k: v for k, v in english.items() if isinstance(v, str)}
    result = {}
    for code in LANGUAGES:
        document = english if code == DEFAULT_LANGUAGE else _read(code)
        meta = document.get("meta", {})
        direction = meta.get("direction", "ltr")
        if direction not in ("ltr", "rtl"):
            raise ValueError(f"locales/{code}.toml: meta.direction must be ltr or rtl")
        messages = {k: v for k, v in document.items() if isinstance(v, str)}
        result[code] = Catalogue(code, meta.get("name", code), direction, messages, fallback)
    return result


def negotiate(accept_language: str | None, chosen: str | None) -> str:
    """The page language: the user's choice (cookie) if known, else the best match of the
    browser's ``Accept-Language`` header, else English."""
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
