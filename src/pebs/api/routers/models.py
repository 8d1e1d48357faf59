"""``/models``: the model cards of the shipped risk models (any logged-in role).

The response models are built from the card classes of :mod:`pebs.risk.cards` (field names,
types and descriptions), so the OpenAPI schema is exactly the card and a field is defined once.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, create_model

from pebs.api.deps import CurrentActor
from pebs.api.routers._router import Router
from pebs.risk import cards
from pebs.services.errors import NotFound

router = Router(prefix="/models", tags=["risk models"])


def _response_model(cls: type, built: dict[type, type[BaseModel]]) -> type[BaseModel]:
    """A frozen pydantic model with the fields, types and descriptions of a card dataclass."""
    if cls in built:
        return built[cls]
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {
        f.name: (_annotation(hints[f.name], built), Field(description=f.metadata["doc"]))
        for f in dataclasses.fields(cls)
    }
    config = ConfigDict(frozen=True, from_attributes=True)
    model = create_model(cls.__name__, __config__=config, __doc__=cls.__doc__, **fields)
    built[cls] = model
    return model


def _annotation(hint: Any, built: dict[type, type[BaseModel]]) -> Any:
    if dataclasses.is_dataclass(hint):
        return _response_model(hint, built)  # type: ignore[arg-type]
    if typing.get_origin(hint) is tuple:
        return list[_annotation(typing.get_args(hint)[0], built)]  # type: ignore[misc]
    if isinstance(hint, types.UnionType):
        inner = [_annotation(a, built) for a in typing.get_args(hint)]
        return typing.Union[tuple(inner)]  # noqa: UP007 (built at run time)
    return hint


_BUILT: dict[type, type[BaseModel]] = {}
ModelCardOut = _response_model(cards.ModelCard, _BUILT)


class CardSummary(BaseModel):
    """One line of the list of shipped models."""

    model_config = ConfigDict(frozen=True, from_attributes=True)
    id: str = Field(description=cards.describe_fields()["id"])
    name: str = Field(description=cards.describe_fields()["name"])
    version: str = Field(description=cards.describe_fields()["version"])
    kind: str = Field(description=cards.describe_fields()["kind"])
    country: str | None = Field(description=cards.describe_fields()["country"])
    population_short: str = Field(description=cards.describe_fields()["population_short"])
    summary: str = Field(description=cards.describe_fields()["summary"])


CardId = Annotated[
    str,
    Path(min_length=1, max_length=64, examples=["gail", "icare", "personalised-FR"],
         description="Card id: gail, icare or personalised-<COUNTRY>"),
]  # fmt: skip


@router.get("", response_model=list[CardSummary])
def list_models(actor: CurrentActor) -> list[CardSummary]:
    """The shipped risk models: id, name, version, population and intended use in short."""
    return [CardSummary.model_validate(c) for c in cards.list_cards()]


@router.get("/{card_id}", response_model=ModelCardOut)
def get_model(card_id: CardId, actor: CurrentActor) -> Any:
    """The whole model card of one shipped model (its text is in English)."""
    try:
        found = cards.card(card_id)
    except cards.UnknownCard as error:
        raise NotFound(str(error)) from error
    return ModelCardOut.model_validate(found)
