"""The reasons of the audit trail in the reader's language.

The services store each audit event's reason in English, and the stored text never changes (the
audit chain hashes it). The system's own reasons are the English messages ``audit_reason.*``
(``locales/en/audit.toml``), written there exactly as the services store them; this module reads
a stored reason back to its message and values and writes it again in the reader's language. A
value that names a code (an arm, a risk level, a withdrawal level) is shown in words. A reason a
person typed (her withdrawal, an override) matches no message and is shown as typed.

>>> from pebs.i18n import catalogues
>>> audit_reason(catalogues()["fr"], "informed consent")
'consentement éclairé'
>>> audit_reason(catalogues()["it"], "screening plan for risk level high")
'piano di screening per: rischio alto'
>>> audit_reason(catalogues()["fr"], "she moved abroad")
'she moved abroad'
"""

from __future__ import annotations

from functools import cache

from pebs.i18n.catalogue import DEFAULT_LANGUAGE, Catalogue, catalogues
from pebs.i18n.read_back import read_back

__all__ = ["PREFIX", "audit_reason", "reason_key"]

PREFIX = "audit_reason."

_CODED_FIELDS = {
    "arm": "arm",
    "level": "level",
    "previous_level": "level",
    "withdrawal": "withdrawal",
}
"""Fields whose value is a code, and the catalogue prefix that has its words (``arm.standard``)."""


@cache
def _keys() -> tuple[str, ...]:
    """The reason keys, those without fields first (``risk assessment`` before any pattern)."""
    english = catalogues()[DEFAULT_LANGUAGE].fallback
    keys = [key for key in english if key.startswith(PREFIX)]
    return tuple(sorted(keys, key=lambda key: "{" in english[key]))


def reason_key(stored: str) -> tuple[str, dict[str, str]] | None:
    """(key, values) of a reason the system wrote; ``None`` for any other text.

    >>> reason_key("eligibility under protocol 2.1")
    ('audit_reason.eligibility', {'version': '2.1'})
    """
    for key in _keys():
        values = read_back(key, stored)
        if values is not None:
            return key, values
    return None


def audit_reason(catalogue: Catalogue, stored: str | None) -> str:
    """``stored`` (an audit event's reason) in the catalogue's language; as stored when it is not
    one of the system's reasons or the language lacks it; ``""`` for no reason."""
    if not stored:
        return ""
    found = reason_key(stored)
    if found is None or catalogue.code == DEFAULT_LANGUAGE:
        return stored
    key, values = found
    if key not in catalogue.messages:
        return stored
    return catalogue.text(key, **{name: _in_words(catalogue, name, value)
                                  for name, value in values.items()})  # fmt: skip


def _in_words(catalogue: Catalogue, field: str, value: str) -> str:
    prefix = _CODED_FIELDS.get(field)
    if prefix is None:
        return value
    return catalogue.get(f"{prefix}.{value}", value)
