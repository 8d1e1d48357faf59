"""Casebook value types: checked against the catalogue of case report forms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pebs.trial.casebook import Casebook, FormInstance
from pebs.trial.forms import FormError

_REGISTRATION = FormInstance(
    "registration",
    None,
    {"site": "FR01", "age_at_entry": 52, "registered_at": datetime(2026, 1, 5, 9, 30, tzinfo=UTC)},
)


def test_values_hold_every_item_in_form_order() -> None:
    instance = FormInstance("death", None, {"cause": "other"})
    assert list(instance.values) == ["date_of_death", "cause", "cause_icd10"]
    assert dict(instance.values) == {"date_of_death": None, "cause": "other", "cause_icd10": None}


def test_values_are_read_only() -> None:
    with pytest.raises(TypeError):
        _REGISTRATION.values["site"] = "IT01"  # type: ignore[index]


@pytest.mark.parametrize(
    ("form", "key", "values", "message"),
    [
        ("biopsy", None, {}, "form 'biopsy' is unknown"),
        ("visit", 1, {"bi_rads": 2}, "form 'visit' has no item 'bi_rads'"),
        ("visit", None, {}, "form 'visit' repeats: its key must be an integer"),
        ("visit", True, {}, "form 'visit' repeats: its key must be an integer"),
        ("death", 3, {}, "form 'death' does not repeat"),
        ("visit", 1, {"birads": True}, "'birads': value True is not of type integer"),
        ("visit", 1, {"recall": 1}, "'recall': value 1 is not of type boolean"),
        ("visit", 1, {"due_date": datetime(2026, 1, 1, tzinfo=UTC)}, "not of type date"),
        ("visit", 1, {"modality": "xray"}, "value 'xray' is not one of mammography"),
        ("registration", None, {"registered_at": datetime(2026, 1, 1)}, "not of type datetime"),
        (
            "registration",
            None,
            {"registered_at": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))},
            "must be in UTC",
        ),
        ("risk_assessment", 1, {"risk_5y": "0.01"}, "not of type float"),
        ("questionnaire", 1, {"timepoint_months": 6}, "value 6 is not one of 0, 3, 12, 48"),
    ],
)
def test_bad_instances_are_refused(form: str, key: object, values: dict, message: str) -> None:
    with pytest.raises(FormError, match=message.replace("(", r"\(")):
        FormInstance(form, key, values)  # type: ignore[arg-type]


def test_an_integer_float_is_taken_as_float() -> None:
    instance = FormInstance("risk_assessment", 4, {"risk_5y": 0})
    assert type(instance.values["risk_5y"]) is float


def test_coded_integer_accepted() -> None:
    instance = FormInstance(
        "questionnaire", 2, {"timepoint_months": 12, "completed_on": date(2026, 3, 1)}
    )
    assert instance.values["timepoint_months"] == 12


def test_forms_in_pathway_then_key_order() -> None:
    visits = [FormInstance("visit", key, {}) for key in (3, 9)]
    book = Casebook("S-1", "FR01", "FR", False, (_REGISTRATION, *visits))
    assert book.instances("visit") == tuple(visits)
    with pytest.raises(FormError, match="pathway order"):
        Casebook("S-1", "FR01", "FR", False, (visits[0], _REGISTRATION))
    with pytest.raises(FormError, match="pathway order"):
        Casebook("S-1", "FR01", "FR", False, (_REGISTRATION, visits[1], visits[0]))
    with pytest.raises(FormError, match="pathway order"):
        Casebook("S-1", "FR01", "FR", False, (_REGISTRATION, visits[0], visits[0]))


def test_withdrawn_data_use_holds_registration_only() -> None:
    Casebook("S-2", "FR01", "FR", True, (_REGISTRATION,))
    with pytest.raises(FormError, match="only the registration"):
        Casebook("S-2", "FR01", "FR", True, (_REGISTRATION, FormInstance("visit", 1, {})))
