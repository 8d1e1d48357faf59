"""The API and the pages apply the same limits (:mod:`pebs.services.field_rules`): the API's
schema publishes each rule, and a value one beyond it is refused by both, next to its field on
the page and named in the API's ``fields``."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from pebs.api import OPENAPI_URL
from pebs.services.auth.api_tokens import DEFAULT_DAYS, MAX_DAYS, NAME_CHARS
from pebs.services.auth.passwords import MAX_LENGTH as MAX_PASSWORD_CHARS
from pebs.services.field_rules import (
    AGE_AT_FIRST_BIRTH,
    AGE_AT_MENARCHE,
    BIRADS,
    CONTACT_CHARS,
    DEFAULT_PLAN_YEARS,
    DEFAULT_VISIT_TYPE,
    DENSITY_READER_CHARS,
    DOCUMENT_VERSION_CHARS,
    HISTOLOGY_DETAIL_CHARS,
    INSTRUMENT_CHARS,
    MAX_PLAN_YEARS,
    N_BIOPSIES,
    N_RELATIVES,
    NATIONAL_ID_CHARS,
    PARTICIPANT_NAME_CHARS,
    PRS_Z,
    REASON_CHARS,
    SITE_CODE_CHARS,
    STUDY_NAME_CHARS,
    TNM_CATEGORY_CHARS,
)

V1 = "/api/v1"
SITE = "mypebs-demo/IT-TO"

LENGTHS = [
    ("RegisterIn", "study", STUDY_NAME_CHARS),
    ("RegisterIn", "site", SITE_CODE_CHARS),
    ("RegisterIn", "name", PARTICIPANT_NAME_CHARS),
    ("RegisterIn", "national_id", NATIONAL_ID_CHARS),
    ("RegisterIn", "contact", CONTACT_CHARS),
    ("ConsentIn", "document_version", DOCUMENT_VERSION_CHARS),
    ("RiskIn", "reason", REASON_CHARS),
    ("WithdrawalIn", "reason", REASON_CHARS),
    ("ConfirmedIn", "reason", REASON_CHARS),
    ("DisableIn", "reason", REASON_CHARS),
    ("VisitIn", "histology_detail", HISTOLOGY_DETAIL_CHARS),
    ("VisitIn", "density_reader", DENSITY_READER_CHARS),
    ("OutcomeIn", "t", TNM_CATEGORY_CHARS),
    ("OutcomeIn", "n", TNM_CATEGORY_CHARS),
    ("OutcomeIn", "m", TNM_CATEGORY_CHARS),
    ("QuestionnaireIn", "instrument", INSTRUMENT_CHARS),
    ("TokenIn", "name", NAME_CHARS),
    ("LoginIn", "password", MAX_PASSWORD_CHARS),
]
"""(request model, field, its maximum length in characters)."""
BOUNDS = [
    ("RiskIn", "n_biopsies", N_BIOPSIES),
    ("RiskIn", "age_at_menarche", AGE_AT_MENARCHE),
    ("RiskIn", "age_at_first_birth", AGE_AT_FIRST_BIRTH),
    ("RiskIn", "n_relatives", N_RELATIVES),
    ("RiskIn", "prs_z", PRS_Z),
    ("VisitIn", "birads", BIRADS),
    ("TokenIn", "days", (1, MAX_DAYS)),
]
"""(request model, field, (lowest, highest) allowed)."""
DEFAULTS = [
    ("RiskIn", "plan_years", DEFAULT_PLAN_YEARS),
    ("PlanIn", "years", DEFAULT_PLAN_YEARS),
    ("VisitIn", "visit_type", DEFAULT_VISIT_TYPE),
    ("TokenIn", "days", DEFAULT_DAYS),
]


@pytest.fixture(scope="module")
def schemas(site: Any) -> dict[str, Any]:
    return site.client.get(OPENAPI_URL).json()["components"]["schemas"]


def _found(schema: Any, keyword: str) -> set[Any]:
    """Every value of ``keyword`` in ``schema`` and its alternatives (``anyOf``: nullable)."""
    if not isinstance(schema, dict):
        return set()
    values = {schema[keyword]} if keyword in schema else set()
    for alternative in schema.get("anyOf", []):
        values |= _found(alternative, keyword)
    return values


@pytest.mark.parametrize(("model", "field", "chars"), LENGTHS)
def test_the_schema_publishes_each_length_rule(
    schemas: dict[str, Any], model: str, field: str, chars: int
) -> None:
    assert _found(schemas[model]["properties"][field], "maxLength") == {chars}


@pytest.mark.parametrize(("model", "field", "bounds"), BOUNDS)
def test_the_schema_publishes_each_range_rule(
    schemas: dict[str, Any], model: str, field: str, bounds: tuple[float, float]
) -> None:
    prop = schemas[model]["properties"][field]
    assert (_found(prop, "minimum"), _found(prop, "maximum")) == ({bounds[0]}, {bounds[1]})


@pytest.mark.parametrize(("model", "field", "default"), DEFAULTS)
def test_the_schema_publishes_each_default(
    schemas: dict[str, Any], model: str, field: str, default: object
) -> None:
    assert schemas[model]["properties"][field]["default"] == default


def test_plan_lengths_are_bounded_by_the_rule(schemas: dict[str, Any]) -> None:
    for model, field in (("RiskIn", "plan_years"), ("PlanIn", "years")):
        prop = schemas[model]["properties"][field]
        assert (prop["exclusiveMinimum"], prop["maximum"]) == (0, MAX_PLAN_YEARS)


def _field_error(text: str, name: str) -> str | None:
    found = re.search(rf'id="f-{name}-error">([^<]*)<', html.unescape(text))
    return None if found is None else found.group(1)


def _api_register(site: Any, **fields: str):
    csrf = site.client.get(f"{V1}/auth/me").json()["csrf_token"]
    body = {"study": "mypebs-demo", "site": "IT-TO", "name": "Limit Woman",
            "birth_date": "1969-05-02", **fields}  # fmt: skip
    return site.client.post(f"{V1}/participants", json=body, headers={"X-CSRF-Token": csrf})


@pytest.mark.parametrize(
    ("field", "chars"),
    [("name", PARTICIPANT_NAME_CHARS), ("national_id", NATIONAL_ID_CHARS),
     ("contact", CONTACT_CHARS)],
)  # fmt: skip
def test_page_and_api_take_a_text_up_to_its_limit_and_refuse_one_more(
    site: Any, field: str, chars: int
) -> None:
    site.login("site_staff")
    form = {"site": SITE, "name": "Limit Woman", "birth_date": "1969-05-02"}
    accepted = site.post_form("/participants/new", {**form, field: "p" * chars})
    assert accepted.status_code == 303, accepted.text
    refused = site.post_form("/participants/new", {**form, field: "p" * (chars + 1)})
    assert refused.status_code == 422
    assert _field_error(refused.text, field) == f"at most {chars} characters"
    accepted = _api_register(site, **{field: "a" * chars})
    assert accepted.status_code == 201, accepted.text
    refused = _api_register(site, **{field: "a" * (chars + 1)})
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["fields"]] == [field]


def test_page_and_api_refuse_a_risk_factor_beyond_its_range(site: Any) -> None:
    study_id = site.db.participant(state="risk-based")
    site.login("site_staff")
    low, high = N_BIOPSIES
    page = site.post_form(f"/participants/{study_id}/risk", {"n_biopsies": str(high + 1)})
    assert page.status_code == 422
    assert _field_error(page.text, "n_biopsies") == f"must be from {low} to {high}"
    csrf = site.client.get(f"{V1}/auth/me").json()["csrf_token"]
    api = site.client.post(
        f"{V1}/participants/{study_id}/risk-assessment", json={"n_biopsies": high + 1},
        headers={"X-CSRF-Token": csrf},
    )  # fmt: skip
    assert api.status_code == 422  # each alternative of the union is named (value, "unknown")
    assert {f["field"].split(".")[0] for f in api.json()["fields"]} == {"n_biopsies"}
