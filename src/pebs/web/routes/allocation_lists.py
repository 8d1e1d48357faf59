"""The statistician's allocation lists: the study's lists (what their generation recorded, never
a slot, an arm or how far a list is used), a new list (its seed shown once, for her sealed
record) and the verification of a list against its sealed seed. Each form calls the service the
API calls (:mod:`pebs.services.trial.allocation_lists`)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from pebs.http.deps import SessionMakerDep
from pebs.services.errors import Conflict, InvalidInput
from pebs.services.field_rules import STUDY_NAME_CHARS
from pebs.services.records import studies_for
from pebs.services.trial import generate_allocation_list, verify_allocation_list
from pebs.services.trial.allocation_lists import allocation_lists
from pebs.web.forms import FieldError, FormReader, place_refusal
from pebs.web.rendering import catalogue_for, render
from pebs.web.viewer import PostedForm, ViewerDep

router = APIRouter(include_in_schema=False)

MAX_SLOTS_PER_STRATUM = 10_000
"""As the API: the most slots a generation may ask for per stratum."""
_SEED = re.compile(r"[0-9]{1,39}")
"""A seed as the API takes it: a whole number >= 0 in decimal digits."""
_GENERATE_FIELDS = ("slots_per_stratum", "strata", "is_test")
_NO_STORE = {"Cache-Control": "no-store"}
StudyQuery = Annotated[str | None, Query(min_length=1, max_length=STUDY_NAME_CHARS)]
ListId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _study(sessions, viewer, study: str | None) -> tuple[tuple[str, ...], str]:
    studies = studies_for(sessions, viewer.actor)
    return studies, study or (studies[0] if studies else "")


def _page(request, viewer, sessions, study, *, values, errors, problem=None, generated=None,
          verification=None, verified_list=None, status=200):  # fmt: skip
    studies, chosen = _study(sessions, viewer, study)
    lists = allocation_lists(sessions, viewer.actor, chosen) if chosen else ()
    response = render(request, "allocation_lists.html", viewer=viewer, studies=studies,
                      study=chosen, lists=lists, values=values, errors=errors, problem=problem,
                      generated=generated, verification=verification,
                      verified_list=verified_list, max_slots=MAX_SLOTS_PER_STRATUM,
                      status=status)  # fmt: skip
    if generated is not None:
        response.headers.update(_NO_STORE)  # the seed: never cached
    return response


@router.get("/allocation-lists")
def lists_page(request: Request, viewer: ViewerDep, sessions: SessionMakerDep,
               study: StudyQuery = None):  # fmt: skip
    """The study's allocation lists, and the forms generating and verifying one."""
    return _page(request, viewer, sessions, study, values={}, errors={})


@router.post("/allocation-lists")
def list_generate(
    request: Request, viewer: ViewerDep, form: PostedForm, sessions: SessionMakerDep,
    study: StudyQuery = None,
) -> Response:  # fmt: skip
    """Generate and store a list; its seed is shown on this page only."""
    _, chosen = _study(sessions, viewer, study)
    reader = FormReader(form)
    slots = reader.integer("slots_per_stratum", 1, MAX_SLOTS_PER_STRATUM, required=True)
    strata_text = reader.text("strata", max_length=20_000)
    strata = None if strata_text is None else [
        s.strip() for s in strata_text.replace(",", "\n").splitlines() if s.strip()]  # fmt: skip
    values = {k: str(form.get(k) or "") for k in _GENERATE_FIELDS}
    problem, status = None, 422
    if not reader.errors:
        assert slots is not None
        try:
            generated = generate_allocation_list(sessions, viewer.actor, chosen,
                                                 slots_per_stratum=slots, strata=strata or None,
                                                 is_test=reader.flag("is_test"))  # fmt: skip
        except (InvalidInput, Conflict) as error:
            problem = place_refusal(reader, error, _GENERATE_FIELDS, catalogue_for(request))
            status = 409 if isinstance(error, Conflict) else 422
        else:
            return _page(request, viewer, sessions, chosen, values={}, errors={},
                         generated=generated, status=201)  # fmt: skip
    return _page(request, viewer, sessions, chosen, values=values, errors=reader.errors,
                 problem=problem, status=status)  # fmt: skip


@router.post("/allocation-lists/{list_id}/verification")
def list_verify(
    request: Request, list_id: ListId, viewer: ViewerDep, form: PostedForm,
    sessions: SessionMakerDep, study: StudyQuery = None,
) -> Response:  # fmt: skip
    """Regenerate a stored list from the sealed seed and show whether it matches."""
    seed = str(form.get("seed") or "").strip()
    if not _SEED.fullmatch(seed):
        errors = {"seed": FieldError("error.seed_digits")}
        return _page(request, viewer, sessions, study, values={}, errors=errors,
                     verified_list=list_id, status=422)  # fmt: skip
    result = verify_allocation_list(sessions, viewer.actor, list_id, int(seed))
    return _page(request, viewer, sessions, study, values={}, errors={}, verification=result,
                 verified_list=list_id)  # fmt: skip
