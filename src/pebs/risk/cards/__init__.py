"""Model cards: what each shipped risk model is for, on whom, with which inputs, how missing
inputs are handled, how well it is calibrated and discriminates, and where its numbers come from.

The cards are data files shipped in this package (``gail.toml``, ``icare.toml``,
``personalised.toml`` and the generated ``calibration.csv``), read with :mod:`tomllib` and
checked when first loaded (:class:`CardError` names the file and the field). The fields are
defined once, in :class:`ModelCard` and the classes it holds. Card ids: ``"gail"``,
``"icare"`` and ``"personalised-<COUNTRY>"`` for each country with packaged tables.

>>> [c.id for c in list_cards()][:3]
['gail', 'icare', 'personalised-BE']
>>> card("gail").name
'NCI BCRAT (Gail model)'
>>> card("personalised-fr").id
'personalised-FR'
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pebs.risk.cards._load import all_cards
from pebs.risk.cards._schema import (
    AgeRange,
    CalibrationRow,
    CalibrationSection,
    CardError,
    CardInput,
    DiscriminationFigure,
    DiscriminationSection,
    ModelCard,
    Provenance,
    describe_fields,
)

__all__ = [
    "AgeRange",
    "CalibrationRow",
    "CalibrationSection",
    "CardError",
    "CardInput",
    "DiscriminationFigure",
    "DiscriminationSection",
    "ModelCard",
    "Provenance",
    "UnknownCard",
    "as_dict",
    "card",
    "card_ids",
    "describe_fields",
    "list_cards",
]


class UnknownCard(LookupError):  # noqa: N818 (the name the entry points map)
    """No card has this id; the message lists the allowed ids."""


def list_cards() -> tuple[ModelCard, ...]:
    """Every shipped card: ``gail``, ``icare``, then ``personalised-<COUNTRY>`` by country."""
    return all_cards()


def card_ids() -> tuple[str, ...]:
    """The ids of :func:`list_cards`, in order."""
    return tuple(c.id for c in all_cards())


def card(card_id: str) -> ModelCard:
    """The card ``card_id``: ``"gail"``, ``"icare"`` or ``"personalised-<COUNTRY>"``.

    Case is ignored (``"personalised-fr"`` finds ``"personalised-FR"``); any other id raises
    :class:`UnknownCard` naming the allowed ids.
    """
    wanted = str(card_id).strip().casefold()
    for candidate in all_cards():
        if candidate.id.casefold() == wanted:
            return candidate
    raise UnknownCard(
        f"card_id: no model card {str(card_id)[:60]!r}; allowed: {', '.join(card_ids())}"
    )


def as_dict(model_card: ModelCard) -> dict[str, Any]:
    """The card as plain data (lists, dicts, text, numbers), e.g. for JSON."""
    return _plain(dataclasses.asdict(model_card))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
