"""The case report forms of a participant's casebook: every form, its items, their types and codes.

One catalogue names what a data manager, a monitor and an interchange file call a piece of a
woman's record: a **form** (``visit``) holds **items** (``birads``); a repeating form (visits,
outcomes, questionnaires) has one instance per recorded row. Queries are raised on an item,
source data is verified and locked per form, and the CDISC ODM metadata (FormDef, ItemGroupDef,
ItemDef, CodeList, MeasurementUnit) is generated from these definitions, so every side agrees on
the names.

Item types are those of CDISC ODM 1.3.2 (``text``, ``integer``, ``float``, ``date``,
``datetime``, ``boolean``). An item whose answer may be the explicit ``unknown`` (she does not
know) is of type ``text``: its value is a number written as text, or ``unknown``
(:attr:`Item.admits_unknown`). Code lists are the vocabularies the database accepts
(:mod:`pebs.trial.vocabularies`). OIDs are ``F.<FORM>`` and ``IT.<FORM>.<ITEM>`` in upper case.

>>> form_named("visit").item("birads")
Item(name='birads', data_type='integer', description='BI-RADS assessment category (0-6)', \
unit='', codes=(), minimum=0, maximum=6, admits_unknown=False)
>>> form_named("visit").item_oid("birads"), form_named("visit").oid
('IT.VISIT.BIRADS', 'F.VISIT')
>>> form_named("biopsy")
Traceback (most recent call last):
...
pebs.trial.forms.FormError: form 'biopsy' is unknown; forms: registration, eligibility, \
consent, allocation, risk_factors, risk_assessment, screening_plan, visit, outcome, death, \
questionnaire
"""

from __future__ import annotations

from dataclasses import dataclass

from pebs.risk.levels import LEVELS
from pebs.trial.vocabularies import (
    ALLOCATION_METHODS,
    BEHAVIOURS,
    BREAST_DENSITIES,
    DEATH_CAUSES,
    DETECTION_MODES,
    ELIGIBILITY_RESULTS,
    HISTOLOGIES,
    LANGUAGES,
    MODALITIES,
    QUESTIONNAIRE_TIMEPOINTS,
    STAGE_GROUPS,
    VISIT_TYPES,
    WITHDRAWAL_LEVELS,
)

__all__ = ["DATA_TYPES", "FORMS", "Form", "FormError", "Item", "form_named", "form_names"]

DATA_TYPES = ("text", "integer", "float", "date", "datetime", "boolean")
"""The item types (CDISC ODM 1.3.2 ``DataType`` values)."""


class FormError(ValueError):
    """An unknown form or item; the message names it and the allowed names."""


@dataclass(frozen=True)
class Item:
    """One item of a form."""

    name: str
    data_type: str
    """One of :data:`DATA_TYPES`."""
    description: str
    unit: str = ""
    """``years``, ``proportion`` (0-1), ``months``, ``count`` or empty."""
    codes: tuple[str, ...] = ()
    """The values it may take (a code list), or empty for any value of its type."""
    minimum: float | None = None
    maximum: float | None = None
    admits_unknown: bool = False
    """Its value may be ``unknown`` (then :attr:`data_type` is ``text``)."""

    def __post_init__(self) -> None:
        if self.data_type not in DATA_TYPES:
            raise FormError(f"item {self.name!r}: data type {self.data_type!r} is unknown")


@dataclass(frozen=True)
class Form:
    """One case report form: its items and whether it repeats."""

    name: str
    title: str
    repeating: bool
    items: tuple[Item, ...]

    @property
    def oid(self) -> str:
        """``F.<NAME>``."""
        return f"F.{self.name.upper()}"

    def item(self, name: str) -> Item:
        """Its item ``name``; :class:`FormError` naming the allowed items if there is none."""
        for item in self.items:
            if item.name == name:
                return item
        raise FormError(
            f"form {self.name!r} has no item {name!r}; items: "
            + ", ".join(item.name for item in self.items)
        )

    def item_oid(self, name: str) -> str:
        """``IT.<FORM>.<ITEM>`` of its item ``name``."""
        return f"IT.{self.name.upper()}.{self.item(name).name.upper()}"


def _i(name: str, data_type: str, description: str, **kwargs: object) -> Item:
    return Item(name, data_type, description, **kwargs)  # type: ignore[arg-type]


FORMS: tuple[Form, ...] = (
    Form("registration", "Registration", False, (
        _i("site", "text", "site code"),
        _i("age_at_entry", "integer", "completed years at registration", unit="years",
           minimum=18, maximum=110),
        _i("age_band", "text", "stratification age band"),
        _i("language", "text", "the language she reads her letters in (ISO 639-1)",
           codes=LANGUAGES),
        _i("registered_at", "datetime", "registration instant (UTC)"),
    )),
    Form("eligibility", "Eligibility", True, (
        _i("protocol_version", "text", "protocol version of the criteria answered"),
        _i("result", "text", "eligibility result", codes=ELIGIBILITY_RESULTS),
        _i("screen_failure_criteria", "text", "criteria she failed (ids separated by ';')"),
        _i("assessed_at", "datetime", "assessment instant (UTC)"),
    )),
    Form("consent", "Consent", True, (
        _i("consent_version", "text", "consent document (country/language version)"),
        _i("consented_at", "datetime", "consent instant (UTC)"),
        _i("withdrawal_level", "text", "withdrawal level", codes=WITHDRAWAL_LEVELS),
        _i("withdrawn_at", "datetime", "withdrawal instant (UTC)"),
        _i("withdrawal_reason", "text", "reason given for the withdrawal"),
    )),
    Form("allocation", "Randomisation", False, (
        _i("arm", "text", "allocated arm"),
        _i("method", "text", "allocation method", codes=ALLOCATION_METHODS),
        _i("stratum", "text", "stratum label, locked at randomisation"),
        _i("allocated_at", "datetime", "randomisation instant (UTC)"),
        _i("override_reason", "text", "reason for an override"),
    )),
    Form("risk_factors", "Risk factors", False, (
        _i("n_biopsies", "text", "previous breast biopsies", unit="count",
           minimum=0, maximum=99, admits_unknown=True),
        _i("atypical_hyperplasia", "text", "atypical hyperplasia on a biopsy",
           codes=("yes", "no", "unknown"), admits_unknown=True),
        _i("age_at_menarche", "text", "age at her first period", unit="years",
           minimum=5, maximum=25, admits_unknown=True),
        _i("age_at_first_birth", "text",
           "age at first live birth in years, nulliparous, or unknown", unit="years",
           minimum=9, maximum=60, admits_unknown=True),
        _i("n_relatives", "text",
           "first-degree relatives (mother, sisters, daughters) with breast cancer",
           unit="count", minimum=0, maximum=99, admits_unknown=True),
        _i("density", "text", "BI-RADS breast density (5th edition)",
           codes=(*BREAST_DENSITIES, "unknown"), admits_unknown=True),
        _i("prs_z", "text", "polygenic risk score, standardised (z)",
           minimum=-10, maximum=10, admits_unknown=True),
    )),
    Form("risk_assessment", "Risk assessment", True, (
        _i("model", "text", "risk model name"),
        _i("model_version", "text", "risk model version"),
        _i("risk_5y", "float", "five-year absolute risk (0.012 = 1.2%)", unit="proportion",
           minimum=0, maximum=1),
        _i("level", "text", "risk level", codes=tuple(LEVELS)),
        _i("assessed_at", "datetime", "assessment instant (UTC)"),
    )),
    Form("screening_plan", "Screening plan", True, (
        _i("arm", "text", "arm the plan follows"),
        _i("policy", "text", "screening policy"),
        _i("start_date", "date", "first day of the plan"),
        _i("end_date", "date", "last day of the plan"),
        _i("superseded_at", "datetime", "when a later plan replaced it (UTC)"),
    )),
    Form("visit", "Visit", True, (
        _i("visit_type", "text", "kind of visit", codes=VISIT_TYPES),
        _i("modality", "text", "exam modality", codes=MODALITIES),
        _i("due_date", "date", "date the exam is due"),
        _i("performed_date", "date", "date the exam was performed"),
        _i("birads", "integer", "BI-RADS assessment category (0-6)", minimum=0, maximum=6),
        _i("recall", "boolean", "she was recalled for further assessment"),
        _i("biopsy", "boolean", "a biopsy was taken"),
        _i("histology", "text", "histology of the biopsy", codes=HISTOLOGIES),
        _i("density", "text", "BI-RADS breast density read on this mammogram",
           codes=BREAST_DENSITIES),
        _i("density_reader", "text", "who read the density"),
    )),
    Form("outcome", "Breast cancer diagnosis", True, (
        _i("diagnosis_date", "date", "date of diagnosis"),
        _i("detection_mode", "text", "how it was detected", codes=DETECTION_MODES),
        _i("behaviour", "text", "invasive or in situ", codes=BEHAVIOURS),
        _i("t_category", "text", "TNM T category with its c/p prefix"),
        _i("n_category", "text", "TNM N category with its c/p prefix"),
        _i("m_category", "text", "TNM M category with its c/p prefix"),
        _i("stage_group", "text", "AJCC 8th edition anatomic stage group", codes=STAGE_GROUPS),
    )),
    Form("death", "Death", False, (
        _i("date_of_death", "date", "date of death"),
        _i("cause", "text", "cause of death", codes=DEATH_CAUSES),
        _i("cause_icd10", "text", "cause of death, ICD-10 code"),
    )),
    Form("questionnaire", "Questionnaire", True, (
        _i("instrument", "text", "questionnaire instrument"),
        _i("timepoint_months", "integer", "time point, months after randomisation",
           unit="months", codes=tuple(str(t) for t in QUESTIONNAIRE_TIMEPOINTS)),
        _i("completed_on", "date", "date she completed it"),
    )),
)  # fmt: skip
"""Every form of a casebook, in the order of her pathway."""

_BY_NAME = {form.name: form for form in FORMS}


def form_names() -> tuple[str, ...]:
    """The form names, in pathway order."""
    return tuple(_BY_NAME)


def form_named(name: str) -> Form:
    """The form ``name``; :class:`FormError` naming the forms if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise FormError(f"form {name!r} is unknown; forms: {', '.join(_BY_NAME)}") from None
