"""Limits and defaults of the inputs that the API and the pages both read, defined once.

The API's request models publish them in its schema (``maxLength``, ``minimum``, ``maximum``,
``default``) and refuse a value beyond them with 422 naming the field; the pages' form readers
(:class:`pebs.web.forms.FormReader`) show the same limit next to the same field. The use cases
check what needs their data (a date in the future at her site, an age at entry, the risk model's
own ranges, the study's vocabularies) and refuse it with
:class:`~pebs.services.errors.InvalidInput` naming the field.

Lengths are in characters; :class:`Bounds` are inclusive. :func:`in_the_future` and
:func:`unknown_choice` are the refusals several use cases share, with the message code a page
translates.

>>> N_BIOPSIES
Bounds(low=0, high=99)
>>> low, high = AGE_AT_MENARCHE
>>> low <= 12 <= high
True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from pebs.screening import DEFAULT_PLAN_YEARS
from pebs.services.errors import InvalidInput

__all__ = [
    "AGE_AT_FIRST_BIRTH",
    "AGE_AT_MENARCHE",
    "BIRADS",
    "CONTACT_CHARS",
    "DEFAULT_PLAN_YEARS",
    "DEFAULT_VISIT_TYPE",
    "DENSITY_READER_CHARS",
    "DOCUMENT_VERSION_CHARS",
    "FULL_NAME_CHARS",
    "HISTOLOGY_DETAIL_CHARS",
    "INSTRUMENT_CHARS",
    "KIT_ID_CHARS",
    "LAB_BATCH_REFERENCE_CHARS",
    "LAB_FILE_NAME_CHARS",
    "MAX_KITS_PER_SHIPMENT",
    "MAX_PLAN_YEARS",
    "NATIONAL_ID_CHARS",
    "N_BIOPSIES",
    "N_RELATIVES",
    "PARTICIPANT_NAME_CHARS",
    "PRS_Z",
    "REASON_CHARS",
    "SHIPMENT_REFERENCE_CHARS",
    "SITE_CODE_CHARS",
    "STUDY_ID_CHARS",
    "STUDY_NAME_CHARS",
    "TNM_CATEGORY_CHARS",
    "USERNAME_CHARS",
    "Bounds",
    "in_the_future",
    "unknown_choice",
]


class Bounds(NamedTuple):
    """A number from ``low`` to ``high``, both allowed."""

    low: int | float
    high: int | float


# A new participant (registration)
STUDY_NAME_CHARS = 64
SITE_CODE_CHARS = 16
STUDY_ID_CHARS = 32
"""A participant's pseudonymous study ID (``IT-TO-000001``) as a request may give it."""
"""A study-wide site code (``IT-TO``)."""
PARTICIPANT_NAME_CHARS = 200
NATIONAL_ID_CHARS = 64
CONTACT_CHARS = 500
"""Address, phone or e-mail, as one text."""

# Consent
DOCUMENT_VERSION_CHARS = 16
"""The version printed on the signed consent form."""

# A risk assessment (the personalised model's inputs; the model checks its own ranges after)
N_BIOPSIES = Bounds(0, 99)
"""Breast biopsies she has had."""
AGE_AT_MENARCHE = Bounds(5, 30)
"""Years."""
AGE_AT_FIRST_BIRTH = Bounds(9, 60)
"""Years."""
N_RELATIVES = Bounds(0, 20)
"""First-degree relatives (mother, sisters, daughters) with breast cancer."""
PRS_Z = Bounds(-10.0, 10.0)
"""Standardised polygenic risk score (standard deviations from the mean)."""
REASON_CHARS = 2000
"""An audited reason (a lower risk level, an override, a withdrawal, a disabled account)."""

# A screening plan (DEFAULT_PLAN_YEARS, the planner's: the length when none is asked for)
MAX_PLAN_YEARS = 30
"""Years: the longest plan a request may ask for."""

# A visit
BIRADS = Bounds(0, 6)
"""BI-RADS assessment category."""
HISTOLOGY_DETAIL_CHARS = 2000
DENSITY_READER_CHARS = 200
"""Who read a mammogram's breast density (a radiologist, or a tool and its version)."""
DEFAULT_VISIT_TYPE = "recall"
"""The type of an unplanned visit when none is given."""

# Follow-up
INSTRUMENT_CHARS = 64
"""A questionnaire instrument's name (``EQ-5D-5L``)."""

# Saliva kits and shipments
KIT_ID_CHARS = 24
"""A kit ID as a request may give it (``MP-7QX2K9ZDL``: prefix, hyphen, 8 + 1 characters)."""
SHIPMENT_REFERENCE_CHARS = 32
"""A shipment's reference (``FR-PA-S0001``: site code, ``-S``, the site's shipment number)."""
MAX_KITS_PER_SHIPMENT = 500
"""Kits one shipment may hold."""

# Laboratory batches
LAB_FILE_NAME_CHARS = 255
"""The name of a genotype file as recorded with its batch."""
LAB_BATCH_REFERENCE_CHARS = 32
"""A batch's reference (``LB-20250303-7QX2K9``)."""

# A breast cancer outcome
TNM_CATEGORY_CHARS = 8
"""One TNM category as written, with its prefix (``pT1c``)."""

# Accounts
USERNAME_CHARS = 64
"""A username (letters, digits and ``.``, ``-``, ``_``, ``@``)."""
FULL_NAME_CHARS = 200
"""An account holder's full name."""


def in_the_future(field: str, day: date) -> InvalidInput:
    """The refusal of a date after today (today where she is).

    >>> str(in_the_future("birth_date", date(2090, 1, 2)))
    'birth_date: 2090-01-02 is in the future'
    """
    return InvalidInput(f"{day} is in the future", field=field, message_code="error.future",
                        values={"day": day.isoformat()})  # fmt: skip


def unknown_choice(field: str, value: Any, allowed: Iterable[str]) -> InvalidInput:
    """The refusal of a value outside a vocabulary, listing the allowed ones.

    >>> str(unknown_choice("modality", "pet", ("mammography", "mri")))
    "modality: 'pet' is unknown; allowed: mammography, mri"
    """
    listed = ", ".join(allowed)
    return InvalidInput(f"{value!r} is unknown; allowed: {listed}", field=field,
                        message_code="error.choice", values={"allowed": listed})  # fmt: skip
