"""A participant's death (date and cause): the pathway ends at ``died``."""

from __future__ import annotations

from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict
from pebs.services.trial import DeathRecorded, record_death

router = Router(prefix="/participants/{study_id}", tags=["follow-up"])


class DeathIn(Body):
    date_of_death: IsoDate
    cause: Text = Field(
        min_length=1, max_length=16,
        description="breast_cancer, other_cancer, other or unknown", examples=["other"],
    )  # fmt: skip
    cause_icd10: Text | None = Field(default=None, max_length=16, examples=["C50.9"])


@router.post(
    "/death", response_model=DeathRecorded, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def death(study_id: StudyId, body: DeathIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record her death (date and cause); nothing else can be recorded for her afterwards."""
    return record_death(sessions, actor, study_id, date_of_death=body.date_of_death,
                        cause=body.cause, cause_icd10=body.cause_icd10)  # fmt: skip
