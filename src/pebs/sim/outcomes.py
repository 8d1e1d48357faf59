"""Diagnosis, stage, survival and the additive outcome counts of one strategy.

Mode of detection of the progressive cancer: *screen-detected* (found at an exam), *interval*
(diagnosed clinically after a negative screen and before the next scheduled exam; when no exam
was scheduled any more, within the last interval between invitations after the last screen, or 2
years if she had only one invitation), or *clinical* (any other clinical diagnosis). A
non-progressive lesion found at an exam counts as a screen-detected, local, overdiagnosed cancer.

Stage at detection (SEER summary stage): a tumour found at fraction ``f`` of its sojourn (1 when
clinical) is distant with probability ``p_distant * f**k`` and regional-or-distant with
``(p_regional + p_distant) * f**k`` (one uniform per woman, so earlier detection never gives a
later stage). The cure model: the cancer is lethal with probability
``q(stage) * (1 - r(stage) * clip((age - 50) / 20, 0, 1)) * scale``; a lethal cancer kills the woman
``Exp(mean by stage)`` years after the date of clinical diagnosis she would have had without
screening (screening cures by stage shift, it does not move a death earlier or later).

Outcome counts (:data:`OUTCOMES`) are whole numbers, and life-years are summed in micro-years
(int64), so totals are exactly additive over chunks in any order (bit-identical results for any
chunking).
"""

from __future__ import annotations

import numpy as np

from pebs.screening.policy import MODALITIES
from pebs.sim.cohort import Cohort
from pebs.sim.parameters import STAGES, Parameters
from pebs.sim.screening_loop import ScreenResult

MODES = ("screen", "interval", "clinical")
OUTCOMES = (
    "n_women",
    *(f"screens_{m}" for m in MODALITIES),
    "visits", "invitations", "first_visits",
    "false_positives", "false_positives_first", "benign_biopsies",
    "cancers", "screen_detected", "interval_cancers", "interval_cancers_12m", "clinical_cancers",
    "non_progressive_detected", "overdiagnosed", "advanced_cancers",
    *(f"stage_{mode}_{stage}" for mode in MODES for stage in STAGES),
    "bc_deaths", "life_years_micro", "lesion_visits", "lesion_detected",
)  # fmt: skip
"""Names of the additive counts, in storage order (see docs/simulation.md for definitions)."""
MICRO = 1_000_000
DEFAULT_INTERVAL_YEARS = 2.0


def stage_at(params: Parameters, fraction: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Stage code (0 local, 1 regional, 2 distant) at sojourn fraction ``fraction`` in [0, 1]."""
    scale = np.clip(fraction, 0.0, 1.0) ** params.stage_exponent
    p_distant = params.stage_clinical[2] * scale
    p_advanced = (params.stage_clinical[1] + params.stage_clinical[2]) * scale
    return np.where(u < p_distant, 2, np.where(u < p_advanced, 1, 0)).astype(np.int8)


def lethal_probability(params: Parameters, stage: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """Probability that a cancer of ``stage`` diagnosed at ``ages`` is lethal (proportion)."""
    start, full = params.lethal_reduction_ages
    ramp = np.clip((ages - start) / (full - start), 0.0, 1.0)
    q = params.lethal_probability[stage] * (1.0 - params.lethal_reduction_at_70[stage] * ramp)
    return np.clip(q * params.lethal_scale, 0.0, 1.0)


def classify(cohort: Cohort, screened: ScreenResult, params: Parameters, eligible: np.ndarray):
    """Per-woman diagnosis records and the outcome counts of the ``eligible`` women.

    Returns ``(counts, records)``: a dict outcome -> int (every name in :data:`OUTCOMES`), and a
    dict of per-woman arrays (diagnosis age, mode, stage, death ages, ...).
    """
    ok = eligible
    is_clinical_dx = (cohort.clinical < cohort.death_other) & (cohort.clinical <= cohort.exit)
    by_screen = screened.screen_progressive
    diagnosed = by_screen | is_clinical_dx  # progressive cancer diagnosed during follow-up
    dx_age = np.where(
        by_screen, screened.screen_age, np.where(is_clinical_dx, cohort.clinical, np.inf)
    )
    after_np = screened.screen_non_progressive
    has_screen = np.isfinite(screened.last_screen) & ~after_np
    gap = np.where(np.isfinite(screened.last_gap), screened.last_gap, DEFAULT_INTERVAL_YEARS)
    window_end = np.where(
        np.isfinite(screened.next_due), screened.next_due, screened.last_screen + gap
    )
    is_interval = ~by_screen & is_clinical_dx & has_screen & (cohort.clinical < window_end)
    mode = np.where(by_screen, 0, np.where(is_interval, 1, 2)).astype(np.int8)
    lead = np.where(by_screen, dx_age - np.where(by_screen, cohort.onset, 0.0), 0.0)
    fraction = np.where(by_screen, lead / np.where(by_screen, cohort.sojourn, 1.0), 1.0)
    stage = stage_at(params, np.where(diagnosed, fraction, 1.0), cohort.stage_u)
    lethal = diagnosed & (
        cohort.lethal_u < lethal_probability(params, stage, np.where(diagnosed, dx_age, 0.0))
    )
    bc_death = np.where(
        lethal, cohort.clinical + cohort.death_delay * params.mean_years_to_death[stage], np.inf
    )
    dies_of_bc = lethal & (bc_death < cohort.death_other) & (bc_death <= cohort.exit)
    death = np.where(dies_of_bc, bc_death, cohort.death_other)
    life_years = np.minimum(death, cohort.exit) - cohort.entry
    overdiagnosed = after_np | (by_screen & ~is_clinical_dx)

    d = diagnosed & ok
    counts = {name: 0 for name in OUTCOMES}
    counts.update({k: v for k, v in screened.totals.items()})
    counts["n_women"] = int(ok.sum())
    counts["false_positives"] = int(screened.n_false_positives[ok].sum())
    counts["benign_biopsies"] = int(screened.n_biopsies[ok].sum())
    counts["non_progressive_detected"] = int((after_np & ok).sum())
    counts["screen_detected"] = int((d & (mode == 0)).sum()) + counts["non_progressive_detected"]
    counts["interval_cancers"] = int((d & (mode == 1)).sum())
    counts["interval_cancers_12m"] = int(
        (d & (mode == 1) & (cohort.clinical - screened.last_screen <= 1.0)).sum()
    )
    counts["clinical_cancers"] = int((d & (mode == 2)).sum())
    counts["cancers"] = int(d.sum()) + counts["non_progressive_detected"]
    counts["overdiagnosed"] = int((overdiagnosed & ok).sum())
    counts["advanced_cancers"] = int((d & (stage >= 1)).sum())
    for m, mode_name in enumerate(MODES):
        for s, stage_name in enumerate(STAGES):
            extra = counts["non_progressive_detected"] if (m == 0 and s == 0) else 0
            counts[f"stage_{mode_name}_{stage_name}"] = (
                int((d & (mode == m) & (stage == s)).sum()) + extra
            )
    counts["bc_deaths"] = int((dies_of_bc & ok).sum())
    counts["life_years_micro"] = int(np.rint(life_years[ok] * MICRO).astype(np.int64).sum())
    records = {
        "diagnosis_age": np.where(
            diagnosed, dx_age, np.where(after_np, screened.screen_age, np.nan)
        ),
        "mode": np.where(diagnosed, mode, np.where(after_np, 0, -1)).astype(np.int8),
        "stage": np.where(diagnosed, stage, np.where(after_np, 0, -1)).astype(np.int8),
        "non_progressive_detected": after_np,
        "overdiagnosed": overdiagnosed,
        "bc_death": dies_of_bc,
        "death_age": np.minimum(death, np.inf),
        "n_screens": screened.n_screens,
        "n_false_positives": screened.n_false_positives,
        "n_biopsies": screened.n_biopsies,
    }
    return counts, records
