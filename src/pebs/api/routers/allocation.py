"""Randomise a participant (atomic, idempotent, concealed)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pebs.api.deps import CurrentActor, KeysDep, SessionMakerDep
from pebs.api.routers._params import StudyId
from pebs.services.trial import Allocated, allocate

router = APIRouter(prefix="/participants/{study_id}", tags=["allocation"])


@router.post("/allocation", response_model=Allocated, status_code=201)
def allocation(
    study_id: StudyId, actor: CurrentActor, sessions: SessionMakerDep, keys: KeysDep,
    response: Response,
):  # fmt: skip
    """Randomise her (201), or return her existing allocation (200)."""
    result = allocate(sessions, actor, keys, study_id)
    if not result.created:
        response.status_code = 200
    return result
