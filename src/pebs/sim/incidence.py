"""Incidence without screening, back-calculated with the model from registry incidence.

Registry incidence of 2013-2020 in countries with an organised programme includes screen-detected
cancers, brought forward by the lead time, and overdiagnosed lesions. The multipliers ``m(g)`` by
age group that turn a country's registry incidence into its incidence without screening are found
by fixed-point iteration:

1. simulate women of the country from 30 for life, without screening and under her national
   programme with the country's programme attendance (``[history] attendance``), with the
   current multipliers (start: 1);
2. in each age group, ``r(g)`` = diagnoses per woman-year under the programme / without screening
   (invasive diagnoses: screen-detected, interval, clinical, and non-progressive lesions found
   when the set does not count them as in situ; registries count invasive cancers, ICD-10 C50);
3. ``m(g) <- 1 / r(g)``: the simulated incidence without screening is ``m`` times the registry,
   so the incidence under the programme, ``r * m`` times the registry, then matches it.

``r`` depends on ``m`` only through the mix of ages, so the second iteration changes ``m`` by a
few per cent at most. Age groups hold whole numbers of screening rounds (10 years in the
programme ages): 5-year groups alternate between 2 and 3 biennial rounds of one cohort. The
result is stored per country in the parameter set (``[incidence] adjustment``); it depends on
the natural-history parameters, so a calibration alternates back-calculation and fit
(:mod:`pebs.sim.fit`).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from pebs.sim.chunk import chunk_records
from pebs.sim.parameters import Parameters
from pebs.sim.scenario import NO_SCREENING, parse_scenario

PROGRAMMES = {"FR": "fr", "IT": "it", "BE": "be", "IL": "il", "UK": "uk-england",
              "UK_ENG": "uk-england", "ES": "es"}  # fmt: skip
"""National programme policy of each country with a multiplier (pebs.screening policies)."""
ENTRY_AGE = 30


def _scenario(country: str, attendance: float):
    return parse_scenario(
        f'name = "incidence-{country}"\n[population]\ncountries = {{ {country} = 1.0 }}\n'
        f'entry_age = [{ENTRY_AGE}, {ENTRY_AGE}]\nfollow_up_years = "lifetime"\n'
        f'[[strategy]]\nname = "programme"\npolicy = "{PROGRAMMES[country]}"\n'
        f"attendance = {attendance}\n"
    )


def incidence_by_group(
    country: str, params: Parameters, *, n_women: int, seed: int
) -> dict[str, np.ndarray]:
    """Diagnoses per woman-year by age group of ``params.incidence_age_edges`` (from 30).

    Keys ``no-screening`` and ``programme`` (shape (n_groups,)); ``registry``: the registry
    incidence averaged over the same simulated woman-years without screening.
    """
    scenario = _scenario(country, params.history_attendance_of(country))
    r = chunk_records(scenario, seed, 0, n_women, 0, params)
    edges = np.concatenate([[ENTRY_AGE], params.incidence_age_edges, [100.0]])
    out = {}
    for strategy in (NO_SCREENING, "programme"):  # invasive diagnoses (registries: C50)
        dx = np.where(r[f"{strategy}.in_situ"], np.nan, r[f"{strategy}.diagnosis_age"])
        end = np.fmin(np.fmin(dx, r["death_other"]), r["exit"])
        rates = []
        for lo, hi in itertools.pairwise(edges):
            years = np.clip(np.minimum(end, hi) - np.maximum(r["entry"], lo), 0, None).sum()
            rates.append(np.count_nonzero((dx >= lo) & (dx < hi)) / max(years, 1e-9))
        out[strategy] = np.array(rates)
    return out


def back_calculate(
    params: Parameters, countries=tuple(PROGRAMMES), *, n_women: int = 200_000, seed: int = 1,
    iterations: int = 3,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Country -> multipliers of the registry incidence by age group (incidence w/o screening)."""
    adjustment = dict(params.incidence_adjustment or {})
    for _ in range(iterations):
        current = dataclasses.replace(params, incidence_adjustment=adjustment)
        updated = {}
        for country in countries:
            rates = incidence_by_group(country, current, n_women=n_women, seed=seed)
            ratio = np.where(rates[NO_SCREENING] > 0, rates["programme"] / rates[NO_SCREENING], 1)
            updated[country] = np.round(1.0 / np.where(ratio > 0, ratio, 1.0), 4)
        adjustment = updated
    return adjustment
