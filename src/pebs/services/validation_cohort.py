"""Simulated validation cohorts whose true five-year risks are known.

Two sources: the personalised model itself (:func:`simulate_validation_cohort`) and the pebs
natural-history simulator without screening (:func:`sim_validation_cohort`).

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

The personalised model is thus the true model of that cohort.

:func:`sim_validation_cohort` takes the women and their natural history from :mod:`pebs.sim`
(:func:`pebs.sim.cohort.draw_cohort`, no screening): one country, the same number of women entering
at each whole age 40-74 (one single-age scenario per age, women with distinct global indices). The
event is the simulator's clinical diagnosis of invasive breast cancer (``Cohort.clinical``), which
without screening is the diagnosis. Follow-up ends at the first of the diagnosis, the simulator's
other-cause death (``death_other``) and the end of follow-up ``C`` drawn as above (the same
scheme: :func:`censoring_years`; here the simulator's deaths come on top of it). The true risk is
the simulator's own five-year risk of clinical cancer, :func:`pebs.sim.risk_model.five_year_risk`
with the woman's baseline table and relative risk; it leaves competing mortality out, which is what
the follow-up rule of ``pebs validate`` expects, since a death ends a woman's follow-up and her
expected events with it. The model answers are written back from the simulator's Gail categories,
density at entry and PRS z by the same rule as below.

The Gail categories are written back as representative answers that :func:`pebs.risk.gail.recode`
maps to the same categories: NB 0/1/2 -> ``n_biopsies`` 0/1/2 (hyperplasia unknown); AM 0/1/2 ->
``age_menarche`` drawn from 14-16 / 12-13 / 10-11; AF 0/1/3 -> ``age_first_birth`` drawn from
17-19 / 20-24 / 30-39, AF 2 -> 25-29 or ``nulliparous`` (:data:`NULLIPAROUS_SHARE_OF_AF2`);
NR -> ``n_first_degree_relatives`` 0/1/2; density codes -> letters a-d.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from pebs.io.cohort_csv import write_cohort_csv
from pebs.risk import personalised
from pebs.risk.reference_population import ReferencePopulation, reference_population
from pebs.sim.cohort import Cohort, draw_cohort, scenario_onset_model
from pebs.sim.parameters import Parameters, default_parameters
from pebs.sim.risk_model import FACTORS, five_year_risk
from pebs.sim.scenario import parse_scenario

HORIZON_YEARS = 5.0
AGES = range(40, 75)
LONGEST_FOLLOW_UP_YEARS = 8.0
"""Administrative end of follow-up: uniform on (5, 8) years for the women not leaving early."""
SOURCES = ("personalised", "sim")
"""Where the outcomes come from: the personalised model's risks, or the pebs.sim natural history."""
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
    """The personalised model's version, or the simulator's parameter label (``sim``)."""
    source: str = "personalised"
    women: Cohort | None = None
    """The pebs.sim women, in the order of the rows (``sim`` only); ``table`` indexes the onset
    model of entry ages 40-74 (``onset_model((country,), 40, 74, ...)``)."""

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
    end = censoring_years(n, rng, early_exit_share)
    event = onset < end
    return np.where(event, onset, end), event.astype(np.int8)


def censoring_years(n: int, rng: np.random.Generator, early_exit_share: float) -> np.ndarray:
    """End of follow-up in years: U(0, 5) with probability ``early_exit_share``, else U(5, 8).

    At least 0.001 years (a follow-up must be > 0).
    """
    early = rng.random(n) < early_exit_share
    end = np.where(
        early, rng.uniform(0.0, HORIZON_YEARS, n),
        rng.uniform(HORIZON_YEARS, LONGEST_FOLLOW_UP_YEARS, n),
    )  # fmt: skip
    return np.maximum(end, 1e-3)


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


def sim_validation_cohort(
    country: str, n_women: int, *, seed: int, early_exit_share: float = 0.25,
    parameters: Parameters | None = None,
) -> SimulatedCohort:  # fmt: skip
    """Women of ``country`` aged 40-74 from :mod:`pebs.sim`, without screening (module docstring).

    ``seed`` keys the simulator's streams and seeds the generator of the answers and censoring.

    Examples
    --------
    >>> cohort = sim_validation_cohort("FR", 700, seed=3)
    >>> len(cohort), cohort.source, sorted(set(cohort.columns["age"].tolist()))[:3]
    (700, 'sim', [40, 41, 42])
    """
    code = country.strip().upper()
    params = default_parameters() if parameters is None else parameters
    per_age = np.full(len(AGES), n_women // len(AGES))
    per_age[: n_women % len(AGES)] += 1
    starts = np.concatenate([[0], np.cumsum(per_age)])
    parts, risks = [], []
    for k, age in enumerate(AGES):
        if per_age[k] == 0:
            continue
        scenario = parse_scenario(
            f"[population]\ncountries = {{ {code} = 1.0 }}\nentry_age = [{age}, {age}]\n"
            f"follow_up_years = {LONGEST_FOLLOW_UP_YEARS}\n",
            f"<validation cohort {code} {age}>",
        )
        part = draw_cohort(scenario, params, seed, int(starts[k]), int(starts[k + 1]))
        model = scenario_onset_model(scenario, params)
        risks.append(five_year_risk(model, part.table, part.rr, part.entry))
        parts.append(replace(part, table=part.table + k))  # this age's table among 40-74
    women = _concatenate(parts)
    risk = np.concatenate(risks)
    rng = np.random.default_rng(seed)
    gail = dict(zip(FACTORS, women.gail_categories, strict=True))
    population = ReferencePopulation.from_arrays(
        women.entry, gail["biopsies"], gail["menarche"], gail["first_birth"], gail["relatives"],
        density=women.density_entry, prs_z=women.prs_z, description=f"pebs.sim women of {code}",
    )  # fmt: skip
    answers = representative_answers(population, rng)
    censored = women.entry + censoring_years(n_women, rng, early_exit_share)
    end = np.minimum(women.death_other, censored)  # age at the end of follow-up
    event = women.clinical < end
    columns = {
        "id": np.array([f"S{i + 1:07d}" for i in range(n_women)], dtype=object),
        **answers,
        "follow_up_years": np.where(event, women.clinical, end) - women.entry,
        "event": event.astype(np.int8),
        "true_risk_5y": risk,
    }
    return SimulatedCohort(columns, risk, code, params.label, source="sim", women=women)


def _concatenate(parts: list[Cohort]) -> Cohort:
    """One cohort from chunks (the Gail categories joined along the women)."""
    return Cohort(**{
        f.name: np.concatenate([getattr(p, f.name) for p in parts], axis=-1)
        for f in fields(Cohort)
    })  # fmt: skip


def write_validation_cohort(
    path: Path, country: str, n_women: int, *, seed: int, early_exit_share: float = 0.25,
    source: str = "personalised",
) -> SimulatedCohort:  # fmt: skip
    """Simulate a cohort (``source``: :func:`simulate_validation_cohort` or
    :func:`sim_validation_cohort`, seeded) and write it as CSV."""
    if source == "personalised":
        cohort = simulate_validation_cohort(
            country, n_women, rng=np.random.default_rng(seed), early_exit_share=early_exit_share
        )
    elif source == "sim":
        cohort = sim_validation_cohort(
            country, n_women, seed=seed, early_exit_share=early_exit_share
        )
    else:
        raise ValueError(f"source: {source!r}; allowed: {', '.join(SOURCES)}")
    write_cohort_csv(Path(path), cohort.columns)
    return cohort
