"""Risk assessment (risk-based arm) and screening plans (standard arm).

Each risk factor of the body is a value, ``"unknown"`` (she does not know: the model's
missing-covariate rule applies and the answer lists it in ``unknown_inputs``), or omitted/``null``
(absent). Absent inputs that the study requires are refused with 422 and ``fields`` naming each;
so is an assessment with no classical factor known. A new level below her current one is refused
with 409 (``previous_level``, ``new_level``) until the request carries ``confirm_lower: true``
and a ``reason``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._dates import IsoDate
from pebs.api.routers._params import StudyId
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import KeysDep, SessionMakerDep
from pebs.services.errors import Conflict, InvalidFields, LevelLowered
from pebs.services.field_rules import (
    AGE_AT_FIRST_BIRTH,
    AGE_AT_MENARCHE,
    DEFAULT_PLAN_YEARS,
    MAX_PLAN_YEARS,
    N_BIOPSIES,
    N_RELATIVES,
    PRS_Z,
    REASON_CHARS,
)
from pebs.services.trial import (
    PlanCreated,
    RiskFactors,
    RiskQuestionnaireRecorded,
    RiskRecorded,
    create_screening_plan,
    record_risk_assessment,
    record_risk_questionnaire,
)
from pebs.services.trial.risk_assessment import DENSITIES

router = Router(prefix="/participants/{study_id}", tags=["risk and plans"])

Unknown = Literal["unknown"]
Biopsies = Annotated[int, Field(ge=N_BIOPSIES.low, le=N_BIOPSIES.high)]
MenarcheAge = Annotated[int, Field(ge=AGE_AT_MENARCHE.low, le=AGE_AT_MENARCHE.high)]
FirstBirthAge = Annotated[int, Field(ge=AGE_AT_FIRST_BIRTH.low, le=AGE_AT_FIRST_BIRTH.high)]
Relatives = Annotated[int, Field(ge=N_RELATIVES.low, le=N_RELATIVES.high)]
PrsZ = Annotated[float, Field(ge=PRS_Z.low, le=PRS_Z.high)]
FirstBirth = FirstBirthAge | Literal["nulliparous"] | Unknown | None
_ANSWER = 'A value, "unknown" (she does not know), or omitted/null (not answered).'


_ONE_FIRST_BIRTH_ANSWER = {
    "if": {"properties": {"nulliparous": {"const": True}}, "required": ["nulliparous"]},
    "then": {"properties": {"age_at_first_birth": {"enum": [None, "nulliparous"]}}},
}
"""The schema of :meth:`RiskIn._one_first_birth_answer`."""


class QuestionnaireAnswers(Body):
    # The inputs she answers herself: the risk questionnaire's, and the start of an assessment.
    n_biopsies: Biopsies | Unknown | None = Field(
        default=None, description=f"Breast biopsies she has had. {_ANSWER}", examples=[0]
    )
    atypical_hyperplasia: bool | Unknown | None = Field(
        default=None,
        description=f"Atypical hyperplasia on a biopsy (not asked after no biopsy). {_ANSWER}",
    )
    age_at_menarche: MenarcheAge | Unknown | None = Field(
        default=None, description=f"Age at first period, years. {_ANSWER}", examples=[12]
    )
    age_at_first_birth: FirstBirth = Field(
        default=None,
        description=f'Age at first live birth, years, or "nulliparous" (none). {_ANSWER}',
        examples=[28, "nulliparous"],
    )
    n_relatives: Relatives | Unknown | None = Field(
        default=None,
        description=f"Mother, sisters, daughters with breast cancer. {_ANSWER}",
        examples=[0],
    )


class RiskIn(QuestionnaireAnswers):
    model_config = ConfigDict(json_schema_extra=_ONE_FIRST_BIRTH_ANSWER)
    nulliparous: bool | None = Field(
        default=None,
        json_schema_extra={"deprecated": True},
        description='Deprecated: send "age_at_first_birth": "nulliparous" instead.',
    )
    density: Literal[DENSITIES] | Unknown | None = Field(
        default=None, description=f"BI-RADS density a, b, c or d. {_ANSWER}"
    )
    prs_z: PrsZ | Unknown | None = Field(
        default=None,
        description=f"Standardised PRS313. {_ANSWER} Omitted: a provisional assessment, if the "
        "study allows it.",
    )
    on_date: IsoDate | None = None
    last_screen: IsoDate | None = None
    plan_years: float = Field(default=DEFAULT_PLAN_YEARS, gt=0, le=MAX_PLAN_YEARS)
    confirm_lower: bool = Field(
        default=False, description="Confirms a new level below her current one (needs a reason)"
    )
    reason: Text | None = Field(
        default=None,
        max_length=REASON_CHARS,
        description="Why; required to lower her level (audited)",
    )

    @field_validator("nulliparous")
    @classmethod
    def _one_first_birth_answer(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        birth = info.data.get("age_at_first_birth")
        if value and birth not in (None, "nulliparous"):
            raise ValueError(f"contradicts age_at_first_birth {birth!r}; send one of the two")
        return value

    def factors(self) -> RiskFactors:
        birth = "nulliparous" if self.nulliparous else self.age_at_first_birth
        return RiskFactors(
            n_biopsies=self.n_biopsies, atypical_hyperplasia=self.atypical_hyperplasia,
            age_at_menarche=self.age_at_menarche, age_at_first_birth=birth,
            n_relatives=self.n_relatives, density=self.density, prs_z=self.prs_z,
        )  # fmt: skip


class RiskQuestionnaireIn(QuestionnaireAnswers):
    answered_on: IsoDate = Field(description="The day she answered")

    def factors(self) -> RiskFactors:
        return RiskFactors(**self.model_dump(exclude={"answered_on"}))


class PlanIn(Body):
    start: IsoDate | None = None
    last_screen: IsoDate | None = None
    years: float = Field(default=DEFAULT_PLAN_YEARS, gt=0, le=MAX_PLAN_YEARS)


@router.post(
    "/risk-assessment",
    response_model=RiskRecorded,
    status_code=201,
    responses=error_responses(
        LevelLowered, Conflict, InvalidFields,
        notes={
            409: "level_lowered: the new level is below her current one (previous_level, "
            "new_level): resend with confirm_lower true and a reason; conflict: she is not in "
            "the risk-based arm",
            422: "Also: required inputs absent, or no classical factor known",
        },
    ),
)  # fmt: skip
def risk_assessment(
    study_id: StudyId, body: RiskIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Assess her risk (risk-based arm): risk, level, unknown inputs and her screening plan."""
    return record_risk_assessment(
        sessions, actor, keys, study_id, body.factors(), on_date=body.on_date,
        last_screen=body.last_screen, plan_years=body.plan_years,
        confirm_lower=body.confirm_lower, reason=body.reason,
    )  # fmt: skip


@router.post(
    "/risk-questionnaire",
    response_model=RiskQuestionnaireRecorded,
    status_code=201,
    responses=error_responses(
        Conflict, InvalidFields,
        notes={409: "She is not in the risk-based arm", 422: "Also: required answers absent"},
    ),
)  # fmt: skip
def risk_questionnaire(
    study_id: StudyId, body: RiskQuestionnaireIn, actor: CurrentActor,
    sessions: SessionMakerDep, keys: KeysDep,
):  # fmt: skip
    """Record her risk questionnaire; her risk and plan follow if her data is now complete
    (``risk_level``), else ``missing`` says what her final assessment waits for."""
    return record_risk_questionnaire(sessions, actor, keys, study_id, body.factors(),
                                     answered_on=body.answered_on)  # fmt: skip


@router.post(
    "/screening-plan", response_model=PlanCreated, status_code=201,
    responses=error_responses(Conflict),
)  # fmt: skip
def screening_plan(
    study_id: StudyId, body: PlanIn, actor: CurrentActor, sessions: SessionMakerDep,
    keys: KeysDep,
):  # fmt: skip
    """Plan her screening (standard arm: her country's programme)."""
    return create_screening_plan(sessions, actor, keys, study_id, start=body.start,
                                 last_screen=body.last_screen, years=body.years)  # fmt: skip
