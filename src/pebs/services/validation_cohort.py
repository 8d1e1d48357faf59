"""A simulated validation cohort whose true five-year risks are known.

:func:`simulate_validation_cohort` draws women of a country with
:func:`pebs.risk.reference_population.reference_population` (ages 40-74, Gail categories,
BI-RADS density, PRS z), takes each woman's **true** five-year risk ``r`` from the personalised
model (:func:`pebs.risk.personalised.assess_population`) and draws her outcome from it:

- time to invasive breast cancer ``T`` with a constant hazard ``h = -ln(1 - r) / 5``, so that
  ``P(T < t) = 1 - (1 - r) ** (t / 5)`` within five years (``P(T < 5) = r``); beyond five years
  the same hazard is extended only to produce some events after the horizon;
- end of follow-up ``C``: with probability ``early_exit_share`` uniform on (0, 5) years (death,
  emigration, loss), otherwise uniform on (5, 8) years (administrative end);
- ``event = 1`` and ``follow_up_years = T`` when ``T < C``; else ``event = 0`` and
  ``follow_up_years = C``.

The events are drawn from the validated model itself, not by :mod:`pebs.sim`: the simulator keeps
only the family-history category of the four Gail factors it draws and gives onsets from its own
relative-risk model, so the personalised model's risk of its women is not their true risk.

The Gail categories are written back as representative answers that :func:`pebs.risk.gail.recode`
maps to the same categories: NB 0/1/2 -> ``n_biopsies`` 0/1/2 (hyperplasia unknown); AM 0/1/2 ->
``age_menarche`` drawn from 14-16 / 12-13 / 10-11; AF 0/1/3 -> ``age_first_birth`` drawn from
17-19 / 20-24 / 30-39, AF 2 -> 25-29 or ``nulliparous`` (:data:`NULLIPAROUS_SHARE_OF_AF2`);
NR -> ``n_first_degree_relatives`` 0/1/2; density codes -> letters a-d.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pebs.io.cohort_csv import write_cohort_csv
from pebs.risk import personalised
from pebs.risk.reference_population import reference_population

HORIZON_YEARS = 5.0
AGES = range(40, 75)
NULLIPAROUS_SHARE_OF_AF2 = 408 / (511 + 408)
"""Nulliparous women among those of Gail category AF 2 (first birth at 25-29 or nulliparous):
408 nulliparous and 511 aged 25-29 among the controls of Clendenen et al., Breast Cancer Res 2019,
Table 1 (the source of the packaged first-birth distribution). It changes no risk."""
MENARCHE_AGES = ((14, 16), (12, 13), (10, 11))
"""Whole-year ages drawn (uniformly, inclusive) for AM 0, 1, 2."""
FIRST_BIRTH_AGES = ((17, 19), (20, 24), (25, 29), (30, 39))
"""Whole-year ages drawn for AF 0, 1, 2 (when not nulliparous), 3."""
DENSITY_LETTERS = np.array(["a", "b", "c", "d"], dtype=object)


@dataclass(frozen=True)
class SimulatedCohort:
    """Cohort-file columns (:mod:`pebs.io.cohort_csv`) and the true risks, one entry per woman."""

    columns: dict[str, np.ndarray]
    true_risk_5y: np.ndarray
    """Five-year risk the outcomes were drawn from (proportion)."""
    country: str
    model_version: str

    def __len__(self) -> int:
        return int(self.true_risk_5y.size)


def _uniform_whole(rng: np.random.Generator, bounds, categories: np.ndarray) -> np.ndarray:
    low = np.array([b[0] for b in bounds])[categories]
    high = np.array([b[1] for b in bounds])[categories]
    return rng.integers(low, high + 1)


def representative_answers(population, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Answers in the ``pebs risk assess`` columns that recode to the population's categories."""
    n = len(population)
    if not np.all(population.hyperplasia_rr == 1.0):
        raise ValueError("population: atypical hyperplasia must be unknown (R_Hyp 1.0) throughout")
    first_birth = _uniform_whole(rng, FIRST_BIRTH_AGES, population.first_birth)
    nulliparous = (population.first_birth == 2) & (rng.random(n) < NULLIPAROUS_SHARE_OF_AF2)
    return {
        "age": population.ages.astype(np.int64),  # whole years 40..74
        "n_biopsies": population.biopsies.astype(np.int64),
        "atypical_hyperplasia": np.full(n, "", dtype=object),
        "age_menarche": _uniform_whole(rng, MENARCHE_AGES, population.menarche),
        "age_first_birth": np.where(nulliparous, "nulliparous", first_birth.astype(str)).astype(
            object
        ),
        "n_first_degree_relatives": population.relatives.astype(np.int64),
        "density": DENSITY_LETTERS[population.density],
        "prs_z": population.prs_z.astype(np.float64),
    }


def draw_outcomes(
    risks: np.ndarray, rng: np.random.Generator, *, early_exit_share: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """``(follow_up_years, event)`` drawn from five-year risks (see the module docstring)."""
    n = risks.size
    hazard = -np.log1p(-risks) / HORIZON_YEARS  # (n,) per year
    onset = rng.exponential(1.0, n) / hazard  # years to invasive breast cancer
    early = rng.random(n) < early_exit_share
    end = np.where(early, rng.uniform(0.0, HORIZON_YEARS, n), rng.uniform(5.0, 8.0, n))
    end = np.maximum(end, 1e-3)  # follow-up must be > 0
    event = onset < end
    return np.where(event, onset, end), event.astype(np.int8)


def simulate_validation_cohort(
    country: str, n_women: int, *, rng: np.random.Generator, early_exit_share: float = 0.25
) -> SimulatedCohort:
    """Women of ``country`` aged 40-74 with known five-year risks and simulated outcomes.

    Examples
    --------
    >>> cohort = simulate_validation_cohort("FR", 1_000, rng=np.random.default_rng(3))
    >>> len(cohort), sorted(set(cohort.columns["event"].tolist()))
    (1000, [0, 1])
    """
    code = country.strip().upper()
    women = reference_population(code, n_women, rng=rng, ages=AGES)
    model = personalised.country_model(code)
    risks = personalised.assess_population(model, women).risk_5y
    if not np.all(np.isfinite(risks)):
        raise ValueError("the personalised model gave no risk for some simulated women")
    answers = representative_answers(women, rng)
    follow_up, event = draw_outcomes(risks, rng, early_exit_share=early_exit_share)
    columns = {
        "id": np.array([f"V{i + 1:07d}" for i in range(n_women)], dtype=object),
        **answers,
        "follow_up_years": follow_up,
        "event": event,
        "true_risk_5y": risks,
    }
    return SimulatedCohort(columns, risks, code, personalised.MODEL_VERSION)


def write_validation_cohort(
    path: Path, country: str, n_women: int, *, seed: int, early_exit_share: float = 0.25
) -> SimulatedCohort:
    """Simulate a cohort (:func:`simulate_validation_cohort`, seeded) and write it as CSV."""
    cohort = simulate_validation_cohort(
        country, n_women, rng=np.random.default_rng(seed), early_exit_share=early_exit_share
    )
    write_cohort_csv(Path(path), cohort.columns)
    return cohort
