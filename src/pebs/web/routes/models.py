"""Pages: the model cards of the shipped risk models (``/models``, ``/models/{card_id}``), for
every logged-in role. The labels are translated; the cards' own text is English and marked so."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from pebs.risk import cards
from pebs.services.errors import NotFound
from pebs.web.rendering import render
from pebs.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)


@router.get("/models")
def model_cards_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    """The shipped risk models, one line each, linking to their cards."""
    return render(request, "model_cards.html", viewer=viewer, cards=cards.list_cards())


@router.get("/models/{card_id}")
def model_card_page(
    request: Request, viewer: ViewerDep, card_id: Annotated[str, Path(max_length=64)]
) -> HTMLResponse:
    """One model card (``personalised-FR``, ``gail``...; the id's case is ignored)."""
    try:
        found = cards.card(card_id)
    except cards.UnknownCard as error:
        raise NotFound(str(error)) from error
    return render(request, "model_card.html", viewer=viewer, card=found)
