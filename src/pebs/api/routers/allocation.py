"""Randomise a participant (atomic, idempotent, concealed)."""

from __future__ import annotations

from fastapi import Response

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import AllocationRefused, Conflict, StratumExhausted
from pebs.services.trial import Allocated, allocate

router = Router(prefix="/participants/{study_id}", tags=["allocation"])


@router.post(
    "/allocation",
    response_model=Allocated,
    status_code=201,
    response_description="Randomised now",
    responses={
        200: {"model": Allocated, "description": "Already randomised: her existing allocation"},
        **error_responses(AllocationRefused, StratumExhausted, Conflict),
    },
)
def allocation(
    study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep, keys: KeysDep,
    response: Response,
):  # fmt: skip
    """Randomise her (201), or return her existing allocation (200)."""
    result = allocate(sessions, actor, keys, study_id)
    if not result.created:
        response.status_code = 200
    return result
