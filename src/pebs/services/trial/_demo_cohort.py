"""The synthetic women of the demo data: who they are, when they come, how far they get.

Pure and deterministic: :func:`demo_cohort` draws everything from one ``random.Random(seed)``
(never the global generator), so the same seed, sites and ``today`` give the same women.
:mod:`.demo_data` then drives the real use cases with these scripts.

Every woman is scripted with a *fate*, the furthest pathway step she is meant to reach:

=================  ==========================================================================
fate               steps
=================  ==========================================================================
``registered``     registration only (registered in the last two weeks)
``incomplete``     an eligibility assessment with an unanswered criterion (stays registered)
``screen_failure`` assessed ineligible: age outside 40-70, or one or two exclusion criteria
``eligible``       assessed eligible, no consent (yet)
``consented``      consented, not randomised yet (consented in the last few days)
``randomised``     randomised, and planned unless she was randomised very recently
=================  ==========================================================================

Rare fates get at least one woman each, so that a small demo still shows every stage.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["CRITERIA", "FATES", "DemoSite", "DemoWoman", "demo_cohort"]

EXCLUSIONS = (
    "history_breast_cancer", "history_atypical_lesion", "history_lcis", "chest_irradiation",
    "high_penetrance_mutation", "bilateral_mastectomy", "abnormality_under_workup",
)  # fmt: skip
"""Exclusion criteria of the demo study's protocol (eligible answer: False)."""
INCLUSIONS = ("able_to_consent", "understands_study_language", "health_coverage")
"""Inclusion criteria (eligible answer: True)."""
CRITERIA = EXCLUSIONS + INCLUSIONS

FATES: dict[str, float] = {
    "registered": 0.02,
    "incomplete": 0.01,
    "screen_failure": 0.09,
    "eligible": 0.03,
    "consented": 0.02,
}
"""Share of women (proportion) per fate; the rest are randomised. Each gets at least one."""

RECRUITMENT_DAYS = 540
"""Registrations are spread over the ~18 months (days) before ``today``."""

_FIRST_NAMES = {
    "IT": ("Giulia", "Francesca", "Chiara", "Paola", "Anna", "Elena"),
    "FR": ("Camille", "Nathalie", "Sophie", "Isabelle", "Claire", "Martine"),
    "IL": ("Noa", "Tamar", "Yael", "Maya", "Rania", "Shira"),
    "BE": ("Els", "Marie", "An", "Sofie", "Nathalie", "Lotte"),
    "UK": ("Sarah", "Emma", "Helen", "Claire", "Rachel", "Joanne"),
    "ES": ("Lucia", "Carmen", "Marta", "Elena", "Laura", "Pilar"),
}
_SURNAMES = ("Example", "Sample", "Placeholder", "Fictional", "Synthetic", "Testperson")


@dataclass(frozen=True)
class DemoSite:
    """A site of the study as the demo needs it."""

    code: str
    country: str
    language: str
    """First study language of her country (the consent document's language)."""
    weight: float
    """Recruitment target (relative weight of the site in the demo)."""


@dataclass(frozen=True)
class DemoWoman:
    """One synthetic woman and her script."""

    index: int
    site: DemoSite
    name: str
    """Clearly fake: ``DEMO <first name> <Example|Sample|...>``."""
    birth_date: date
    national_id: str
    registered_at: datetime
    fate: str
    answers: dict[str, bool | None]
    """Eligibility answers (one ``None`` for ``incomplete``; failed criteria for a screen
    failure)."""
    step_days: tuple[int, int, int]
    """Days from registration to eligibility, from eligibility to consent, from allocation to
    the plan (standard arm)."""
    factors: tuple[int, int, int | None, bool, int, str]
    """(n_biopsies, age_at_menarche, age_at_first_birth, nulliparous, n_relatives, density) for
    her risk: the first five she answers on the risk questionnaire, the density is read on her
    baseline mammogram (her PRS comes from the laboratory's synthetic genotypes)."""

    def at(self, day: date, hour: int = 9, minute: int = 0) -> datetime:
        """An instant on ``day`` (UTC office hours: the same calendar day in every study zone)."""
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _fates(n: int, rng: random.Random) -> list[str]:
    counts = {fate: max(1, round(share * n)) for fate, share in FATES.items()}
    n_randomised = n - sum(counts.values())
    if n_randomised < 8:
        raise ValueError(f"n: {n} women are too few for every pathway stage; give at least 40")
    fates = [fate for fate, count in counts.items() for _ in range(count)]
    fates += ["randomised"] * n_randomised
    rng.shuffle(fates)
    return fates


def _birth_date(rng: random.Random, on: date, *, outside: bool) -> date:
    """A birth date giving age 40-69 on ``on`` (``outside``: 37, 38 or 71-73), so that she is
    still in (or still out of) the 40-70 range weeks later, when she is randomised."""
    age = rng.choice((37, 38, 71, 72, 73)) if outside else rng.randint(40, 69)
    return date(on.year - age - 1, on.month, min(on.day, 28)) + timedelta(days=rng.randint(1, 364))


def _answers(rng: random.Random, fate: str) -> dict[str, bool | None]:
    answers: dict[str, bool | None] = dict.fromkeys(EXCLUSIONS, False)
    answers |= dict.fromkeys(INCLUSIONS, True)
    if fate == "incomplete":
        answers[rng.choice(CRITERIA)] = None
    elif fate == "screen_failure":
        for criterion in rng.sample(CRITERIA, rng.choice((1, 1, 1, 2))):
            answers[criterion] = criterion in EXCLUSIONS
    return answers


def _registration_day(rng: random.Random, fate: str, today: date) -> date:
    if fate == "registered":
        back = rng.randint(1, 14)
    elif fate == "consented":
        back = rng.randint(3, 12)
    else:
        back = rng.randint(30, RECRUITMENT_DAYS)
    return today - timedelta(days=back)


def _step_days(rng: random.Random, fate: str) -> tuple[int, int, int]:
    if fate == "consented":  # registered 3-12 days ago: assessed and consented within 2 days
        return rng.randint(0, 1), rng.randint(0, 1), 0
    return rng.randint(0, 3), rng.randint(0, 10), rng.randint(0, 28)


def demo_cohort(n: int, seed: int, sites: Sequence[DemoSite], today: date) -> list[DemoWoman]:
    """``n`` scripted women over ``sites`` (weighted by target), registered before ``today``.

    Sorted by registration instant (the order in which they are registered, so study IDs
    follow registration dates).
    """
    if not sites:
        raise ValueError("sites: the study has no site")
    rng = random.Random(seed)
    fates = _fates(n, rng)
    chosen = rng.choices(list(sites), weights=[max(s.weight, 1.0) for s in sites], k=n)
    women = []
    for index, (fate, site) in enumerate(zip(fates, chosen, strict=True)):
        day = _registration_day(rng, fate, today)
        age_failure = fate == "screen_failure" and rng.random() < 0.3
        answers = _answers(rng, "eligible" if age_failure else fate)
        first = rng.choice(_FIRST_NAMES.get(site.country, _FIRST_NAMES["UK"]))
        nulliparous = rng.random() < 0.15
        factors = (
            rng.choice((0, 0, 0, 1, 2)), rng.randint(10, 16),
            None if nulliparous else rng.randint(18, 38), nulliparous,
            rng.choice((0, 0, 0, 0, 1, 2)), rng.choice("abcd"),
        )  # fmt: skip
        women.append(
            DemoWoman(
                index=index,
                site=site,
                name=f"DEMO {first} {rng.choice(_SURNAMES)}",
                birth_date=_birth_date(rng, day, outside=age_failure),
                national_id=f"DEMO-{seed}-{index:06d}",
                registered_at=datetime.combine(
                    day, time(8 + rng.randint(0, 7), rng.randint(0, 59)), tzinfo=UTC
                ),
                fate=fate,
                answers=answers,
                step_days=_step_days(rng, fate),
                factors=factors,
            )
        )
    return sorted(women, key=lambda w: (w.registered_at, w.index))
