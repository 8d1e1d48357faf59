"""The data dictionary of the participant export: every column's type, unit and meaning.

How each type is written depends on the format (:mod:`pebs.io.exports`); in CSV: empty for
missing, dates ``YYYY-MM-DD``, instants ISO 8601 in UTC with ``Z``, booleans ``true``/``false``,
numbers in Python's shortest round-trip form, and text that a spreadsheet would run as a formula
(``=...``, ``@...``) starts with ``'`` (:mod:`pebs.io.exports.csv`).
"""

from __future__ import annotations

from pebs.io.exports import Column

__all__ = ["IDENTITY_COLUMNS", "RESEARCH_COLUMNS", "Column", "data_dictionary"]


def _c(name: str, type_: str, unit: str, description: str) -> Column:
    return Column(name, type_, unit, description)


RESEARCH_COLUMNS: tuple[Column, ...] = (
    _c("study_id", "string", "", "pseudonymous study ID (country-site-sequence)"),
    _c("site", "string", "", "site code"),
    _c("country", "string", "", "country code (ISO 3166-1 alpha-2; UK for the United Kingdom)"),
    _c("status", "string", "", "current pathway state (pebs.trial.State)"),
    _c("data_use_withdrawn", "boolean", "",
       "she withdrew the use of her data: every column after this one is left empty"),
    _c("registered_at", "datetime", "UTC", "registration instant"),
    _c("age_at_entry", "integer", "years", "completed years at registration"),
    _c("age_band", "string", "", "stratification age band (40-49, 50-59, 60-70)"),
    _c("stratum", "string", "", "stratum label, set and locked at randomisation"),
    _c("eligibility", "string", "", "latest eligibility result: eligible, screen_failure, "
       "incomplete"),
    _c("protocol_version", "string", "", "protocol version of the latest eligibility assessment"),
    _c("eligibility_assessed_at", "datetime", "UTC", "instant of the latest assessment"),
    _c("screen_failure_criteria", "string", "",
       "criteria she failed (ids separated by ';'; age: outside the age range)"),
    _c("consented_at", "datetime", "UTC", "instant of her latest consent"),
    _c("consent_version", "string", "", "consent document (country/language version)"),
    _c("withdrawal_level", "string", "", "no_further_contact, no_further_data_collection or "
       "withdraw_data_use"),
    _c("withdrawn_at", "datetime", "UTC", "instant of the withdrawal"),
    _c("arm", "string", "", "allocated arm"),
    _c("allocation_method", "string", "", "list, minimisation or override"),
    _c("allocated_at", "datetime", "UTC", "randomisation instant"),
    _c("risk_model", "string", "", "risk model and version of the latest risk assessment"),
    _c("risk_5y", "number", "proportion", "five-year absolute risk (0.012 = 1.2%)"),
    _c("risk_level", "string", "", "risk level: low, average, high, very_high"),
    _c("risk_assessed_at", "datetime", "UTC", "instant of the latest risk assessment"),
    _c("plan_policy", "string", "", "screening policy of her current plan"),
    _c("plan_start", "date", "", "start of her current plan"),
    _c("n_visits_performed", "integer", "count", "visits performed (planned and unplanned)"),
    _c("n_recalls", "integer", "count", "visits with a recall"),
    _c("n_biopsies", "integer", "count", "visits with a biopsy"),
    _c("max_birads", "integer", "", "highest BI-RADS category (0-6) recorded at a visit"),
    _c("n_diagnoses", "integer", "count", "breast cancer diagnoses recorded"),
    _c("first_diagnosis_date", "date", "", "date of her first breast cancer diagnosis"),
    _c("detection_mode", "string", "", "first diagnosis: screen_detected, interval or clinical"),
    _c("behaviour", "string", "", "first diagnosis: invasive or dcis"),
    _c("tnm", "string", "", "first diagnosis: TNM categories with c/p prefixes"),
    _c("stage_group", "string", "", "first diagnosis: AJCC 8th anatomic stage group"),
    _c("date_of_death", "date", "", "date of death"),
    _c("death_cause", "string", "", "breast_cancer, other_cancer, other or unknown"),
    _c("n_questionnaires", "integer", "count", "questionnaire responses recorded"),
)  # fmt: skip
"""Pseudonymised research data, one row per participant."""

IDENTITY_COLUMNS: tuple[Column, ...] = (
    Column("name", "string", "", "her name (identifying)", identifying=True),
    Column("birth_date", "date", "", "her date of birth (identifying)", identifying=True),
    Column("contact", "string", "", "her contact details (identifying)", identifying=True),
    Column("national_id", "string", "", "her national ID (identifying)", identifying=True),
)
"""Identifying data, decrypted: only with ``include_identity`` and a role allowed to see it."""

N_ALWAYS = 5
"""The first columns (study ID to data_use_withdrawn) are filled even when data use is
withdrawn, so that every participant appears and the rows add up."""


def data_dictionary(*, include_identity: bool = False) -> tuple[Column, ...]:
    """The columns of :func:`~pebs.services.trial.exports.export_participants`, in order.

    >>> [c.name for c in data_dictionary()][:4]
    ['study_id', 'site', 'country', 'status']
    >>> data_dictionary(include_identity=True)[-1].identifying
    True
    """
    return RESEARCH_COLUMNS + (IDENTITY_COLUMNS if include_identity else ())
