"""``/allocation-lists``: generate and verify concealed allocation lists (statistician only).

No route returns a list's slots, arms, positions or blocks: the statistician regenerates them
from her sealed seed when she needs them. Seeds travel as decimal strings (a 128-bit seed does
not survive a JavaScript number) and only in request and response bodies, never in URLs, so
that they stay out of access logs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from pebs.api.deps import CurrentActor
from pebs.api.errors import error_responses
from pebs.api.routers._body import Body
from pebs.api.routers._params import MAX_ID
from pebs.api.routers._router import Router
from pebs.api.routers._text import Text
from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict, NotFound
from pebs.services.trial import generate_allocation_list, verify_allocation_list
from pebs.trial import ListVerification

router = Router(prefix="/allocation-lists", tags=["allocation lists"])

Seed = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,39}$", description="A whole number >= 0, as decimal digits"),
]
ListId = Annotated[int, Path(ge=1, le=MAX_ID)]


class GenerateIn(Body):
    study: Text = Field(min_length=1, max_length=64, examples=["mypebs-demo"])
    slots_per_stratum: int = Field(
        ge=1, le=10_000, description="Minimum slots per stratum (a list ends at a block end)"
    )
    strata: list[Annotated[Text, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, min_length=1, max_length=1000,
        description="Stratum labels (default: every stratum of the study)",
        examples=[["IT-TO:50-59"]],
    )  # fmt: skip
    seed: Seed | None = Field(
        default=None, description="Only to reproduce a documented generation (default: 128 "
        "random bits); a study never uses a seed twice",
    )  # fmt: skip
    is_test: bool = Field(default=False, description="A test/training list")


class GeneratedListOut(BaseModel):
    list_id: int
    study: str
    version: int
    is_test: bool
    algorithm: str
    algorithm_version: str
    seed: str
    """For the statistician's sealed record: shown once, never again."""
    sha256: str
    n_strata: int
    n_slots: int


class VerifyIn(Body):
    seed: Seed


@router.post(
    "", response_model=GeneratedListOut, status_code=201,
    responses=error_responses(NotFound, Conflict),
)  # fmt: skip
def generate(body: GenerateIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Generate and store a list; the response holds its seed for your sealed record."""
    generated = generate_allocation_list(
        sessions, actor, body.study, slots_per_stratum=body.slots_per_stratum,
        seed=None if body.seed is None else int(body.seed), strata=body.strata,
        is_test=body.is_test,
    )  # fmt: skip
    return GeneratedListOut(**{**vars(generated), "seed": str(generated.seed)})


@router.post("/{list_id}/verification", response_model=ListVerification)
def verification(list_id: ListId, body: VerifyIn, actor: CurrentActor, sessions: SessionMakerDep):
    """Regenerate a stored list from the sealed seed and compare it byte for byte."""
    return verify_allocation_list(sessions, actor, list_id, int(body.seed))
