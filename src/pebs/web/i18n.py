"""The page language: the catalogues live in :mod:`pebs.i18n` (shared with the letters);
this module chooses a request's language.

>>> negotiate("fr-BE,fr;q=0.9,en;q=0.5", None)
'fr'
>>> negotiate("de-DE", None), negotiate("de-DE", "it")
('en', 'it')
"""

from __future__ import annotations

from pebs.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogue, catalogues

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Catalogue", "catalogues", "negotiate"]


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
