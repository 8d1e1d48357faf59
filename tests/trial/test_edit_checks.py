"""Edit checks: each kind fires on a hand-built casebook and stays quiet when the data is right;
the study file's tables are read with messages that name the key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files

import pytest

from pebs.trial.casebook import Casebook, FormInstance
from pebs.trial.edit_checks import (
    EditCheckError,
    edit_checks_from_json,
    edit_checks_json,
    parse_edit_checks,
    run_checks,
)
from pebs.trial.study import StudyError, load_study, parse_study

RANGE = {"id": "menarche", "kind": "range", "form": "risk_factors", "item": "age_at_menarche",
         "min": 8, "max": 17, "message": "check her age at menarche"}  # fmt: skip
REQUIRED_IF = {"id": "histology", "kind": "required_if", "form": "visit", "item": "histology",
               "if_item": "biopsy", "if_value": True, "message": "give the histology"}  # fmt: skip
DATE_ORDER = {"id": "after-consent", "kind": "date_order", "form": "visit",
              "item": "performed_date", "after": "consent.consented_at",
              "message": "visit before consent"}  # fmt: skip
REQUIRED_BEFORE = {"id": "density", "kind": "required_before", "form": "risk_factors",
                   "item": "density", "before": "risk_assessment", "accept_unknown": False,
                   "message": "density missing"}  # fmt: skip


def _book(*forms: FormInstance, withdrawn: bool = False) -> Casebook:
    return Casebook("FR-PA-000012", "FR-PA", "FR", withdrawn, forms)


def _found(check: dict, book: Casebook, zone: str = "Europe/Paris") -> list[tuple]:
    return [(f.check.id, f.form, f.item, f.key, f.value)
            for f in run_checks(parse_edit_checks([check]), book, zone)]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "fires"),
    [("7", True), ("8", False), ("17", False), ("18", True), ("unknown", False), (None, False)],
)
def test_range_fires_outside_its_limits(value, fires) -> None:
    book = _book(FormInstance("risk_factors", None, {"age_at_menarche": value}))
    expected = [("menarche", "risk_factors", "age_at_menarche", None, value)] if fires else []
    assert _found(RANGE, book) == expected


def test_required_if_fires_on_each_instance_whose_condition_holds() -> None:
    book = _book(
        FormInstance("visit", 3, {"biopsy": True, "histology": None}),
        FormInstance("visit", 4, {"biopsy": True, "histology": "benign"}),
        FormInstance("visit", 5, {"biopsy": False, "histology": None}),
        FormInstance("visit", 6, {"biopsy": None, "histology": None}),
        FormInstance("visit", 9, {"biopsy": True}),
    )
    assert _found(REQUIRED_IF, book) == [
        ("histology", "visit", "histology", 3, None),
        ("histology", "visit", "histology", 9, None),
    ]


def test_date_order_compares_days_in_her_time_zone() -> None:
    # consented at 23:30 UTC on 2 March: 3 March in Paris (UTC+1)
    consent = FormInstance("consent", 1, {"consented_at": datetime(2025, 3, 2, 23, 30, tzinfo=UTC)})
    later = FormInstance("consent", 2, {"consented_at": datetime(2025, 6, 1, 9, 0, tzinfo=UTC)})
    book = _book(consent, later, *(
        FormInstance("visit", key, {"performed_date": day}) for key, day in
        ((10, date(2025, 3, 2)), (11, date(2025, 3, 3)), (12, date(2025, 4, 1)), (13, None))
    ))  # fmt: skip
    assert _found(DATE_ORDER, book) == [
        ("after-consent", "visit", "performed_date", 10, date(2025, 3, 2))
    ]
    # in UTC the consent is on 2 March: the visit of that day passes
    assert _found(DATE_ORDER, book, "UTC") == []


def test_date_order_is_quiet_without_the_other_date() -> None:
    book = _book(FormInstance("visit", 10, {"performed_date": date(2020, 1, 1)}))
    assert _found(DATE_ORDER, book) == []


@pytest.mark.parametrize(
    ("density", "has_assessment", "fires"),
    [(None, True, True), ("unknown", True, True), ("b", True, False), (None, False, False)],
)
def test_required_before(density, has_assessment, fires) -> None:
    forms = [FormInstance("risk_factors", None, {"density": density})]
    if has_assessment:
        forms.append(FormInstance("risk_assessment", 4, {"level": "average"}))
    expected = [("density", "risk_factors", "density", None, density)] if fires else []
    assert _found(REQUIRED_BEFORE, _book(*forms)) == expected


def test_required_before_fires_when_the_form_has_no_instance() -> None:
    book = _book(FormInstance("risk_assessment", 4, {"level": "average"}))
    assert _found(REQUIRED_BEFORE, book) == [("density", "risk_factors", "density", None, None)]


def test_unknown_is_an_answer_unless_the_check_says_otherwise() -> None:
    check = {**REQUIRED_BEFORE, "accept_unknown": True}
    forms = (FormInstance("risk_factors", None, {"density": "unknown"}),
             FormInstance("risk_assessment", 4, {}))  # fmt: skip
    assert _found(check, _book(*forms)) == []


def test_no_check_runs_on_a_withdrawn_womans_registration() -> None:
    book = _book(FormInstance("registration", None, {"site": "FR-PA"}), withdrawn=True)
    checks = parse_edit_checks([RANGE, REQUIRED_IF, DATE_ORDER, REQUIRED_BEFORE])
    assert run_checks(checks, book, "UTC") == ()


def test_checks_survive_their_stored_form() -> None:
    checks = parse_edit_checks([RANGE, REQUIRED_IF, DATE_ORDER, REQUIRED_BEFORE,
                                {**RANGE, "id": "low-only", "max": None}])  # fmt: skip
    assert edit_checks_from_json(edit_checks_json(checks)) == checks
    assert checks[1].if_value is True


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({**RANGE, "kind": "between"}, "edit_check[1].kind: unknown kind 'between'; allowed: "
                                       "range, required_if, date_order, required_before"),
        ({**RANGE, "form": "biopsy"}, "edit_check[1].form: form 'biopsy' is unknown"),
        ({**RANGE, "item": "age"}, "edit_check[1].item: form 'risk_factors' has no item 'age'"),
        ({**RANGE, "item": "density"}, "edit_check[1].item: risk_factors.density is not a number"),
        ({**RANGE, "min": 20}, "edit_check[1]: min 20 is above max 17"),
        ({k: v for k, v in RANGE.items() if k not in ("min", "max")}, "give min, max or both"),
        ({**RANGE, "id": "Menarche!"}, "edit_check[1].id: 'Menarche!' must be lower-case"),
        ({**RANGE, "after": "x"}, "edit_check[1].after: unknown key for a range check"),
        ({**REQUIRED_IF, "if_value": "perhaps"}, "edit_check[1].if_value: form 'visit' item "
                                                 "'biopsy': 'perhaps' is not allowed"),
        ({**REQUIRED_IF, "if_item": "histology"}, "must be another item"),
        ({**DATE_ORDER, "after": "consent"}, "edit_check[1].after: give <form>.<item>"),
        ({**DATE_ORDER, "after": "visit.birads"}, "after: visit.birads is not a date"),
        ({**DATE_ORDER, "item": "birads"}, "edit_check[1].item: visit.birads is not a date"),
        ({**REQUIRED_BEFORE, "form": "visit", "item": "density"}, "'visit' repeats"),
        ({**REQUIRED_BEFORE, "accept_unknown": "no"}, "accept_unknown: must be true or false"),
        ({**RANGE, "message": ""}, "edit_check[1].message: must be a non-empty text"),
    ],
)  # fmt: skip
def test_a_bad_table_is_refused_naming_its_key(table, message) -> None:
    with pytest.raises(EditCheckError) as raised:
        parse_edit_checks([table])
    assert message in str(raised.value)


def test_an_id_listed_twice_is_refused() -> None:
    with pytest.raises(EditCheckError, match=r"edit_check\[2\].id: check 'menarche' is listed"):
        parse_edit_checks([RANGE, RANGE])


def test_the_demo_study_declares_every_kind_with_translated_messages() -> None:
    study = load_study("mypebs-demo")
    assert {check.kind for check in study.edit_checks} == {
        "range", "required_if", "date_order", "required_before"}  # fmt: skip
    for language in ("fr", "it", "nl", "he", "es"):
        for check in study.edit_checks:
            assert f"edit_check.{check.id}.message" in study.translations[language]


def test_a_translation_of_an_unknown_check_is_refused() -> None:
    source = files("pebs.trial").joinpath("studies/mypebs-demo.toml").read_text("utf-8")
    source = source.replace('"edit_check.menarche-age.message"', '"edit_check.nope.message"', 1)
    with pytest.raises(StudyError, match=r"translations\.fr\.edit_check\.nope\.message: names no"):
        parse_study(source)
