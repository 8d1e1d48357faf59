"""Model quantities compared with published targets (:mod:`pebs.sim.targets`).

Each measure is simulated in one *study*: a small scenario built here that mirrors the design of
the published figure (who, ages, schedule, attendance, horizon). A study run returns additive
integer counts per chunk (:func:`study_counts`); a measure is a ratio of two counts, scaled
(rates per 1,000 or 10,000), or one minus that ratio (relative reductions). Counts are added over
chunks before the ratio, so the value does not depend on the chunking, and the same women are
used for every parameter set (common random numbers: the calibration objective is a deterministic
function of the parameters for a given seed).

Studies:

- ``eu-biennial``: women aged 50 (France, Italy, Spain, Belgium, equal weights) screened every
  2 years from 50 to 69 with full attendance and followed to 79 (the EUROSCREEN "women screened"
  design; programme performance of the European Breast Cancer Screening Network);
- ``uk-programme``: UK women from 50, invited every 3 years from 50 to 70 with 71 % attendance
  (NHS uptake, 2018-19) and screened with full attendance, followed to 80;
- ``uk-age-trial``: UK women from 40, invited to annual mammography to 48 with 70 % attendance,
  followed 17 years (the UK Age trial); the comparison group has no screening before 50;
- ``two-county``: women of the four ``eu-biennial`` countries and the UK entering at 40-74,
  invited every 24 months (40-49) or 33 months (50+) for the 7 years of the Swedish Two-County
  trial's screening phase with 85 % attendance, followed 29 years; the control group has one
  screen at the end of the phase (85 % attendance); breast-cancer deaths from cancers
  diagnosed up to that screen.

Parameter measures (``mean_sojourn_*``) are read from the parameters, not simulated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from pebs.sim.chunk import chunk_totals_and_records
from pebs.sim.parameters import Parameters
from pebs.sim.scenario import NO_SCREENING, Scenario, parse_scenario

SCREEN, INTERVAL = 0, 1
"""Mode codes of :func:`pebs.sim.outcomes.classify` records."""

STUDIES = {
    "eu-biennial": """
name = "eu-biennial"
[population]
countries = { FR = 1.0, IT = 1.0, ES = 1.0, BE = 1.0 }
entry_age = [50, 50]
follow_up_years = 29
[[strategy]]
name = "screened"
policy = "es"
""",
    "uk-programme": """
name = "uk-programme"
[population]
countries = { UK = 1.0 }
entry_age = [50, 50]
follow_up_years = 30
[[strategy]]
name = "invited"
policy = "uk-england"
attendance = 0.711
[[strategy]]
name = "screened"
policy = "uk-england"
""",
    "two-county": """
name = "two-county"
[population]
countries = { FR = 1.0, IT = 1.0, ES = 1.0, BE = 1.0, UK = 1.0 }
entry_age = [40, 75]
follow_up_years = 29
[[strategy]]
name = "invited"
policy = "two-county-invited"
attendance = 0.85
screening_years = 7
[[strategy]]
name = "control"
policy = "two-county-control"
attendance = 0.85
study_years = 7
screening_years = 7
""",
    "uk-age-trial": """
name = "uk-age-trial"
[population]
countries = { UK = 1.0 }
entry_age = [40, 40]
follow_up_years = 17
[[strategy]]
name = "invited"
policy = "uk-age-trial-annual-40-48"
attendance = 0.70
""",
}
"""Scenario text of each study (``es`` is the biennial 50-69 schedule used for every country)."""


@functools.cache
def study_scenario(study: str) -> Scenario:
    return parse_scenario(STUDIES[study], f"<study {study}>")


def _count(mask) -> int:
    return int(np.count_nonzero(mask))


def _eu_biennial(totals, r) -> dict[str, int]:
    s = "screened"
    mode, dx, last = r[f"{s}.mode"], r[f"{s}.diagnosis_age"], r[f"{s}.last_screen"]
    n_scr = r[f"{s}.n_screens"]
    since = dx - last
    detected_first = _count((mode == SCREEN) & (n_scr == 1))
    visits, first = totals.get(s, "visits"), totals.get(s, "first_visits")
    fp, fp_first = totals.get(s, "false_positives"), totals.get(s, "false_positives_first")
    detected = totals.get(s, "screen_detected")
    interval = mode == INTERVAL
    return {
        "n_women": totals.get(s, "n_women"),
        "first_visits": first,
        "later_visits": visits - first,
        "recalls_first": fp_first + detected_first,
        "recalls_later": fp - fp_first + detected - detected_first,
        "detected_first": detected_first,
        "detected_later": detected - detected_first,
        "detected": detected,
        "negative_screens": visits - detected,
        "interval_0_12": _count(interval & (since <= 1.0)),
        "interval_12_24": _count(interval & (since > 1.0) & (since <= 2.0)),
        "interval_0_24": _count(interval & (since <= 2.0)),
        "detected_plus_interval_0_24": detected + _count(interval & (since <= 2.0)),
        "dcis_detected": totals.get(s, "dcis_detected"),
        "overdiagnosed": totals.get(s, "overdiagnosed"),
        "deaths_averted": totals.get(NO_SCREENING, "bc_deaths") - totals.get(s, "bc_deaths"),
        "fp_noninvasive": _count((r[f"{s}.n_false_positives"] > 0) & (r[f"{s}.n_biopsies"] == 0)),
        "fp_invasive": _count(r[f"{s}.n_biopsies"] > 0),
    }


def _uk_programme(totals, r) -> dict[str, int]:
    inv, scr = "invited", "screened"
    mode, dx, last = r[f"{scr}.mode"], r[f"{scr}.diagnosis_age"], r[f"{scr}.last_screen"]
    since = dx - last
    before_65 = (mode == INTERVAL) & (last < 65)
    n_screens = r[f"{scr}.n_screens"].astype(np.int64)
    inv_dx = r[f"{inv}.diagnosis_age"]
    return {
        "n_women": totals.get(inv, "n_women"),
        "deaths_none": totals.get(NO_SCREENING, "bc_deaths"),
        "deaths_invited": totals.get(inv, "bc_deaths"),
        "deaths_averted_invited": totals.get(NO_SCREENING, "bc_deaths")
        - totals.get(inv, "bc_deaths"),
        "deaths_averted_screened": totals.get(NO_SCREENING, "bc_deaths")
        - totals.get(scr, "bc_deaths"),
        "overdiagnosed_invited": totals.get(inv, "overdiagnosed"),
        "cancers_invited": totals.get(inv, "cancers"),
        "cancers_invited_before_71": _count(inv_dx < 71),
        "overdiagnosed_screened": totals.get(scr, "overdiagnosed"),
        "visits_screened": totals.get(scr, "visits"),
        "detected_screened": totals.get(scr, "screen_detected"),
        "dcis_screened": totals.get(scr, "dcis_detected"),
        "invasive_detected_screened": totals.get(scr, "screen_detected")
        - totals.get(scr, "dcis_detected"),
        # screens at 50, 53, ..., 62 (every 3 years from 50 with full attendance): the first five
        "screens_before_65": int(np.minimum(n_screens, 5).sum()),
        "interval_0_12_before_65": _count(before_65 & (since <= 1.0)),
        "interval_12_24_before_65": _count(before_65 & (since > 1.0) & (since <= 2.0)),
        "interval_24_36_before_65": _count(before_65 & (since > 2.0) & (since <= 3.0)),
    }


TWO_COUNTY_YEARS = 7.0
"""Length of the Two-County trial's screening phase (years after entry)."""


def _two_county(totals, r) -> dict[str, int]:
    end = r["entry"] + TWO_COUNTY_YEARS + 1e-6  # the control group's screen included

    def deaths(strategy: str) -> int:
        return _count(r[f"{strategy}.bc_death"] & (r[f"{strategy}.diagnosis_age"] <= end))

    return {"deaths_control": deaths("control"), "deaths_invited": deaths("invited")}


def _uk_age_trial(totals, r) -> dict[str, int]:
    def deaths(strategy: str) -> int:
        return _count(r[f"{strategy}.bc_death"] & (r[f"{strategy}.diagnosis_age"] < 50))

    return {"deaths_control": deaths(NO_SCREENING), "deaths_invited": deaths("invited")}


COUNTERS: dict[str, Callable] = {
    "eu-biennial": _eu_biennial,
    "uk-programme": _uk_programme,
    "uk-age-trial": _uk_age_trial,
    "two-county": _two_county,
}


@dataclass(frozen=True)
class Measure:
    """``scale * numerator / denominator`` (``kind`` "rate") or ``1 - num / den`` ("reduction")."""

    study: str  # a key of STUDIES, or "parameters"
    numerator: str
    denominator: str
    scale: float = 1.0
    kind: str = "rate"
    description: str = ""


MEASURES: dict[str, Measure] = {
    "recall_initial": Measure("eu-biennial", "recalls_first", "first_visits",
                              description="recalls (true and false positive) / first screens"),
    "recall_subsequent": Measure("eu-biennial", "recalls_later", "later_visits",
                                 description="recalls / subsequent screens"),
    "detection_initial_per_10000": Measure(
        "eu-biennial", "detected_first", "first_visits", 1e4,
        description="screen-detected (invasive and non-progressive) per 10,000 first screens"),
    "detection_subsequent_per_10000": Measure(
        "eu-biennial", "detected_later", "later_visits", 1e4,
        description="screen-detected per 10,000 subsequent screens"),
    "interval_0_12_per_10000": Measure(
        "eu-biennial", "interval_0_12", "negative_screens", 1e4,
        description="interval cancers <= 12 months after a negative screen per 10,000 negative "
        "screens"),
    "interval_12_24_per_10000": Measure(
        "eu-biennial", "interval_12_24", "negative_screens", 1e4,
        description="interval cancers 12-24 months after a negative screen per 10,000 negative "
        "screens"),
    "interval_share_biennial": Measure(
        "eu-biennial", "interval_0_24", "detected_plus_interval_0_24",
        description="interval cancers within 24 months / (interval + screen-detected)"),
    "overdiagnosed_per_1000_screened_50_69_to_79": Measure(
        "eu-biennial", "overdiagnosed", "n_women", 1e3,
        description="overdiagnosed per 1,000 women screened biennially 50-69, to 79"),
    "deaths_averted_per_1000_screened_50_69_to_79": Measure(
        "eu-biennial", "deaths_averted", "n_women", 1e3,
        description="BC deaths averted per 1,000 women screened biennially 50-69, to 79"),
    "fp_noninvasive_per_1000_screened_50_69": Measure(
        "eu-biennial", "fp_noninvasive", "n_women", 1e3,
        description="women with >= 1 false positive and no benign biopsy per 1,000 screened"),
    "fp_invasive_per_1000_screened_50_69": Measure(
        "eu-biennial", "fp_invasive", "n_women", 1e3,
        description="women with >= 1 benign biopsy per 1,000 screened"),
    "relative_reduction_invited_uk": Measure(
        "uk-programme", "deaths_invited", "deaths_none", kind="reduction",
        description="1 - BC deaths to 80, invited (71 % attendance) / not screened"),
    "deaths_averted_per_10000_invited_uk": Measure(
        "uk-programme", "deaths_averted_invited", "n_women", 1e4,
        description="BC deaths averted to 80 per 10,000 invited every 3 years 50-70"),
    "overdiagnosis_share_invited_uk": Measure(
        "uk-programme", "overdiagnosed_invited", "cancers_invited",
        description="overdiagnosed / all cancers diagnosed 50-80 in the invited"),
    "overdiagnosis_share_screening_period_uk": Measure(
        "uk-programme", "overdiagnosed_invited", "cancers_invited_before_71",
        description="overdiagnosed / cancers diagnosed before 71 in the invited"),
    "deaths_averted_per_1000_screened_uk_50_69": Measure(
        "uk-programme", "deaths_averted_screened", "n_women", 1e3,
        description="BC deaths averted to 80 per 1,000 screened every 3 years 50-70"),
    "overdiagnosed_per_1000_screened_uk_50_69": Measure(
        "uk-programme", "overdiagnosed_screened", "n_women", 1e3,
        description="overdiagnosed per 1,000 screened every 3 years 50-70, to 80"),
    "detection_per_1000_screened_uk": Measure(
        "uk-programme", "detected_screened", "visits_screened", 1e3,
        description="screen-detected per 1,000 screens, every 3 years 50-70"),
    "in_situ_share_screen_detected_uk": Measure(
        "uk-programme", "dcis_screened", "detected_screened",
        description="in-situ lesions (DCIS) / screen-detected, every 3 years 50-70"),
    "in_situ_share_screen_detected_biennial": Measure(
        "eu-biennial", "dcis_detected", "detected", description="in-situ lesions (DCIS) / "
        "screen-detected, every 2 years 50-69"),
    "invasive_detection_per_1000_screened_uk": Measure(
        "uk-programme", "invasive_detected_screened", "visits_screened", 1e3,
        description="invasive cancers screen-detected per 1,000 screens, every 3 years 50-70"),
    "relative_reduction_two_county": Measure(
        "two-county", "deaths_invited", "deaths_control", kind="reduction",
        description="1 - BC deaths (29 years) from cancers of the screening phase: invited / "
        "not invited"),
    "interval_0_12_per_1000_uk": Measure(
        "uk-programme", "interval_0_12_before_65", "screens_before_65", 1e3,
        description="interval cancers <= 12 months after a screen at 50-64 per 1,000 screens"),
    "interval_12_24_per_1000_uk": Measure(
        "uk-programme", "interval_12_24_before_65", "screens_before_65", 1e3,
        description="interval cancers 12-24 months after a screen at 50-64 per 1,000 screens"),
    "interval_24_36_per_1000_uk": Measure(
        "uk-programme", "interval_24_36_before_65", "screens_before_65", 1e3,
        description="interval cancers 24-36 months after a screen at 50-64 per 1,000 screens"),
    "age_trial_rate_ratio": Measure(
        "uk-age-trial", "deaths_invited", "deaths_control",
        description="BC deaths by 57 from cancers diagnosed before 50: invited / control"),
    "mean_sojourn_50_59": Measure("parameters", "", "", description="mean sojourn at 50-59"),
    "mean_sojourn_60_69": Measure("parameters", "", "", description="mean sojourn at 60-69"),
}  # fmt: skip
"""Every measure a target may name."""


def _parameter_value(name: str, params: Parameters) -> float:
    age = {"mean_sojourn_50_59": 55.0, "mean_sojourn_60_69": 65.0}[name]
    group = int(np.searchsorted(params.sojourn_age_edges, age, side="right"))
    return float(params.sojourn_mean_years[group])


def study_counts(
    study: str, params: Parameters, seed: int, start: int, stop: int, replicate: int = 0
) -> dict[str, int]:
    """Additive counts of one chunk of a study (picklable unit of work)."""
    totals, records = chunk_totals_and_records(
        study_scenario(study), seed, start, stop, replicate, params
    )
    return COUNTERS[study](totals, records)


def _study_task(args) -> tuple[str, int, dict[str, int]]:
    study, params, seed, start, stop, replicate = args
    return study, replicate, study_counts(study, params, seed, start, stop, replicate)


def studies_of(names: Iterable[str]) -> tuple[str, ...]:
    """The studies needed for the measures ``names`` (in STUDIES order)."""
    needed = {MEASURES[n].study for n in names}
    return tuple(s for s in STUDIES if s in needed)


def evaluate(
    names: Iterable[str], params: Parameters, *, n_women: int, seed: int, replicates: int = 1,
    chunk_size: int = 50_000, map_chunks: Callable = map,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Measure name -> values per replicate (shape (replicates,)).

    ``map_chunks(fn, tasks)`` may be an executor's map (tasks are picklable tuples); the counts are
    added per replicate, so the values do not depend on the chunking or the executor.
    """
    names = tuple(names)
    tasks = [
        (study, params, seed, start, min(start + chunk_size, n_women), r)
        for study in studies_of(names) if study != "parameters"
        for r in range(replicates)
        for start in range(0, n_women, chunk_size)
    ]  # fmt: skip
    sums: dict[tuple[str, int], dict[str, int]] = {}
    for study, r, counts in map_chunks(_study_task, tasks):
        total = sums.setdefault((study, r), dict.fromkeys(counts, 0))
        for key, value in counts.items():
            total[key] += value
    out = {}
    for name in names:
        m = MEASURES[name]
        if m.study == "parameters":
            out[name] = np.full(replicates, _parameter_value(name, params))
            continue
        values = []
        for r in range(replicates):
            c = sums[(m.study, r)]
            ratio = c[m.numerator] / c[m.denominator] if c[m.denominator] else np.nan
            values.append(1.0 - ratio if m.kind == "reduction" else m.scale * ratio)
        out[name] = np.array(values)
    return out
