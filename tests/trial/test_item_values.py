"""An item's value as text: each data type read and written, refusals naming what is allowed.

Expected values follow the spellings of CDISC ODM 1.3.2 ``ItemData/@Value`` (ISO 8601 dates,
``true``/``false``) and the ranges and code lists of the catalogue of forms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pebs.trial.forms import FormError, form_named
from pebs.trial.item_values import parse_value, value_text


@pytest.mark.parametrize(
    ("form", "item", "text", "value"),
    [
        ("visit", "birads", "0", 0),
        ("visit", "birads", "6", 6),
        ("visit", "recall", "yes", True),
        ("visit", "recall", "FALSE", False),
        ("visit", "performed_date", "2025-02-28", date(2025, 2, 28)),
        ("visit", "histology", "dcis", "dcis"),
        ("risk_assessment", "risk_5y", "0.012", 0.012),
        ("consent", "consented_at", "2025-03-03T11:00:00+01:00",
         datetime(2025, 3, 3, 10, 0, tzinfo=UTC)),
        ("risk_factors", "n_biopsies", "2", "2"),
        ("risk_factors", "n_biopsies", "unknown", "unknown"),
        ("risk_factors", "age_at_first_birth", "nulliparous", "nulliparous"),
        ("risk_factors", "prs_z", "-1.25", "-1.25"),
        ("risk_factors", "density", "c", "c"),
        ("questionnaire", "timepoint_months", "12", 12),
        ("death", "cause_icd10", " C50.9 ", "C50.9"),
    ],
)  # fmt: skip
def test_a_text_is_read_as_the_items_value(form, item, text, value) -> None:
    parsed = parse_value(form_named(form), item, text)
    assert parsed == value
    assert type(parsed) is type(value)


@pytest.mark.parametrize(
    ("form", "item", "text", "allowed"),
    [
        ("visit", "birads", "7", "a whole number from 0 to 6"),
        ("visit", "birads", "2.5", "a whole number from 0 to 6"),
        ("visit", "recall", "maybe", "true or false"),
        ("visit", "performed_date", "28/02/2025", "a date YYYY-MM-DD"),
        ("visit", "histology", "cancer", "one of benign, high_risk_lesion, dcis, invasive"),
        ("consent", "consented_at", "2025-03-03T11:00:00", "with its offset"),
        ("risk_factors", "age_at_menarche", "30", "a number from 5 to 25 or 'unknown'"),
        ("risk_factors", "n_relatives", "nulliparous", "a number from 0 to 99 or 'unknown'"),
        ("risk_assessment", "risk_5y", "1.5", "a number from 0 to 1"),
        ("questionnaire", "timepoint_months", "6", "one of 0, 3, 12, 48"),
        ("visit", "birads", "   ", "a whole number from 0 to 6"),
    ],
)  # fmt: skip
def test_a_refusal_names_the_item_and_what_is_allowed(form, item, text, allowed) -> None:
    with pytest.raises(FormError, match=f"form '{form}' item '{item}'") as raised:
        parse_value(form_named(form), item, text)
    assert allowed in str(raised.value)


def test_an_unknown_item_names_the_forms_items() -> None:
    with pytest.raises(FormError, match="form 'visit' has no item 'bi_rads'; items: visit_type"):
        parse_value(form_named("visit"), "bi_rads", "1")


def test_values_are_written_as_odm_text() -> None:
    visit = form_named("visit")
    paris = timezone(timedelta(hours=1))
    assert value_text(visit.item("recall"), False) == "false"
    assert value_text(visit.item("due_date"), date(2025, 1, 2)) == "2025-01-02"
    assert (
        value_text(
            form_named("consent").item("consented_at"), datetime(2025, 3, 3, 11, 0, tzinfo=paris)
        )
        == "2025-03-03T10:00:00+00:00"
    )
    assert value_text(visit.item("birads"), None) is None
    assert value_text(form_named("risk_assessment").item("risk_5y"), 0.1) == "0.1"
