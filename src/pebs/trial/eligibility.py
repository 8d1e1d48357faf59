"""Protocol-versioned eligibility: criteria as data, and the assessment of one woman's answers.

A protocol version's :class:`CriteriaSet` holds an age range and yes/no criteria, each with an id,
the question put to the woman or her record, the answer that keeps her eligible, and the reason
recorded when she fails it. The study file (``pebs/trial/studies/*.toml``) holds the criteria;
the MyPeBS-like set in the demo study follows the public MyPeBS summary (NCT03672331):

- women aged 40-70;
- no personal history of breast cancer (invasive or DCIS), atypical lesion, LCIS or chest
  irradiation;
- no known high-penetrance mutation (BRCA1/2, PALB2, TP53 or equivalent);
- no bilateral mastectomy; no breast abnormality under work-up (clinically suspect lesion or
  BI-RADS 4/5);
- able to consent and to understand a study language; covered by a health system.

Age is in **completed years** on the assessment date (:func:`pebs.screening.age_on`), and the range
is inclusive: ``min_age <= age <= max_age`` (aged 40-70 admits a woman up to the day before her
71st birthday).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from pebs.screening import age_on

AGE_CRITERION = "age"
"""Id under which an age outside the protocol's range is reported (reserved)."""

STATUSES = ("eligible", "screen_failure", "incomplete")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class EligibilityError(ValueError):
    """The criteria or the answers are malformed (not: the woman is ineligible)."""


@dataclass(frozen=True)
class Criterion:
    """One yes/no criterion.

    Attributes
    ----------
    id
        Stable identifier (lowercase letters, digits, ``_``), stored with every answer.
    question
        The question as asked (``"Has she ever had breast cancer, invasive or DCIS?"``).
    expected
        The answer that keeps her eligible (``False`` for an exclusion criterion).
    failure_reason
        The screen-failure reason recorded when the answer differs from ``expected``.
    """

    id: str
    question: str
    expected: bool
    failure_reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID.match(self.id) or self.id == AGE_CRITERION:
            raise EligibilityError(
                f"criterion id {self.id!r} must be lowercase letters, digits and '_', starting "
                f"with a letter, and not the reserved {AGE_CRITERION!r}"
            )
        for name in ("question", "failure_reason"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise EligibilityError(f"criterion {self.id!r}: {name} must be a non-empty text")
        if not isinstance(self.expected, bool):
            raise EligibilityError(
                f"criterion {self.id!r}: expected must be true or false, got {self.expected!r}"
            )


@dataclass(frozen=True)
class CriteriaSet:
    """The eligibility criteria of one protocol version."""

    protocol_version: str
    min_age: int
    max_age: int
    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.protocol_version, str) or not self.protocol_version.strip():
            raise EligibilityError("protocol_version must be a non-empty text")
        for name in ("min_age", "max_age"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
                raise EligibilityError(
                    f"{name} must be a whole number of years in 0..120, got {value!r}"
                )
        if self.min_age > self.max_age:
            raise EligibilityError(f"min_age {self.min_age} must not exceed max_age {self.max_age}")
        ids = [c.id for c in self.criteria]
        for i, criterion_id in enumerate(ids):
            if ids.index(criterion_id) != i:
                raise EligibilityError(
                    f"protocol {self.protocol_version}: criterion id {criterion_id!r} is used "
                    "more than once"
                )

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)


@dataclass(frozen=True)
class Failure:
    """A criterion she does not meet, with the reason to record."""

    criterion: str
    reason: str


@dataclass(frozen=True)
class EligibilityResult:
    """Outcome of :func:`assess`.

    ``eligible`` is True only when every criterion is answered and met. With a failed criterion
    she is a screen failure even if other answers are missing; with only missing answers the
    assessment is incomplete (ask again, do not record a screen failure).
    """

    protocol_version: str
    assessed_on: date
    age: int
    eligible: bool
    failed: tuple[Failure, ...]
    missing: tuple[str, ...]

    @property
    def status(self) -> str:
        """``"eligible"``, ``"screen_failure"`` or ``"incomplete"``."""
        if self.failed:
            return "screen_failure"
        return "incomplete" if self.missing else "eligible"


def _check_date(name: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise EligibilityError(f"{name} must be a date (not a date-time), got {value!r}")
    return value


def assess(
    criteria: CriteriaSet,
    answers: Mapping[str, bool | None],
    birth_date: date,
    on_date: date,
) -> EligibilityResult:
    """Assess one woman against a protocol version's criteria.

    Parameters
    ----------
    criteria
        The criteria of the protocol version in force on ``on_date``.
    answers
        Criterion id -> ``True``/``False``; ``None`` or an absent id means not answered.
    birth_date, on_date
        Her date of birth and the assessment date; age is completed years on ``on_date``.

    Raises
    ------
    EligibilityError
        For an answer to an unknown criterion (naming the protocol's ids), an answer that is not
        true/false/None, or dates in the wrong order.

    Examples
    --------
    >>> rules = CriteriaSet("1.0", 40, 70, (
    ...     Criterion("history_breast_cancer", "Ever had breast cancer?", False,
    ...               "personal history of breast cancer"),
    ... ))
    >>> result = assess(rules, {"history_breast_cancer": True}, date(1976, 5, 1), date(2026, 1, 5))
    >>> result.status, result.age, [f.reason for f in result.failed]
    ('screen_failure', 49, ['personal history of breast cancer'])
    """
    birth_date = _check_date("birth_date", birth_date)
    on_date = _check_date("on_date", on_date)
    if birth_date > on_date:
        raise EligibilityError(f"birth_date {birth_date} is after the assessment date {on_date}")
    if not isinstance(answers, Mapping):
        raise EligibilityError(f"answers must map criterion ids to true/false, got {answers!r}")
    known = set(criteria.ids)
    for criterion_id, answer in answers.items():
        if criterion_id not in known:
            raise EligibilityError(
                f"answer for unknown criterion {criterion_id!r}; protocol "
                f"{criteria.protocol_version} criteria: {', '.join(criteria.ids)}"
            )
        if answer is not None and not isinstance(answer, bool):
            raise EligibilityError(
                f"answer to {criterion_id!r} must be true, false or None (not answered), "
                f"got {answer!r}"
            )
    age = age_on(birth_date, on_date)
    failed: list[Failure] = []
    if not criteria.min_age <= age <= criteria.max_age:
        failed.append(
            Failure(
                AGE_CRITERION,
                f"aged {age} on {on_date.isoformat()}; the protocol requires "
                f"{criteria.min_age} to {criteria.max_age}",
            )
        )
    missing: list[str] = []
    for criterion in criteria.criteria:
        answer = answers.get(criterion.id)
        if answer is None:
            missing.append(criterion.id)
        elif answer is not criterion.expected:
            failed.append(Failure(criterion.id, criterion.failure_reason))
    return EligibilityResult(
        protocol_version=criteria.protocol_version,
        assessed_on=on_date,
        age=age,
        eligible=not failed and not missing,
        failed=tuple(failed),
        missing=tuple(missing),
    )
