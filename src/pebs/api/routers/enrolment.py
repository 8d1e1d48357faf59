"""Eligibility, consent and withdrawal of a participant."""

from __future__ import annotations

from pydantic import Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict
from pebs.services.field_rules import DOCUMENT_VERSION_CHARS, REASON_CHARS
from pebs.services.trial import (
    ConsentRecorded,
    EligibilityOutcome,
    Withdrawal,
    assess_eligibility,
    record_consent,
    withdraw,
)

router = Router(prefix="/participants/{study_id}", tags=["eligibility and consent"])


class EligibilityIn(Body):
    answers: dict[str, bool | None] = Field(
        description="Criterion name -> answer (null: not known yet)", max_length=100
    )
    on_date: IsoDate | None = None


class ConsentIn(Body):
    language: Text = Field(min_length=2, max_length=16, examples=["it"])
    document_version: Text | None = Field(
        default=None, min_length=1, max_length=DOCUMENT_VERSION_CHARS
    )


class WithdrawalIn(Body):
    level: Text = Field(min_length=1, max_length=32)
    reason: Text = Field(min_length=1, max_length=REASON_CHARS)


@router.post(
    "/eligibility", response_model=EligibilityOutcome, tags=["eligibility"],
    responses=error_responses(Conflict),
)  # fmt: skip
def eligibility(
    study_id: StudyId, body: EligibilityIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Assess her eligibility under the protocol in force."""
    return assess_eligibility(sessions, actor, keys, study_id, body.answers, on_date=body.on_date)


@router.post(
    "/consent", response_model=ConsentRecorded, tags=["consent"],
    responses=error_responses(Conflict),
)  # fmt: skip
def consent(study_id: StudyId, body: ConsentIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Record her informed consent on the document version in force."""
    return record_consent(sessions, actor, study_id, language=body.language,
                          document_version=body.document_version)  # fmt: skip


@router.post(
    "/withdrawal", response_model=Withdrawal, tags=["consent"],
    responses=error_responses(Conflict),
)  # fmt: skip
def withdrawal(
    study_id: StudyId, body: WithdrawalIn, actor: CurrentActor, sessions: SessionMakerDep
):
    """Record her withdrawal at a level, with the reason."""
    return withdraw(sessions, actor, study_id, level=body.level, reason=body.reason)
