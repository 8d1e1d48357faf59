"""Diagnosis, stage, survival and the additive outcome counts of one strategy.

Mode of detection of the progressive cancer: *screen-detected* (found at an exam), *interval*
(diagnosed clinically after a negative screen and before the next scheduled exam; when no exam
was scheduled any more, within the last interval between invitations after the last screen, or 2
years if she had only one invitation), or *clinical* (any other clinical diagnosis). A
non-progressive lesion found at an exam counts as a screen-detected, local, overdiagnosed cancer
(unless it would have surfaced clinically in follow-up; then it is a clinical one without
screening). Ductal carcinoma in situ: the in-situ phase before a progressive cancer, found at an
exam, is a screen-detected lesion that prevents the invasive cancer (no invasive diagnosis, no
breast-cancer death; overdiagnosed only if the invasive cancer would not have surfaced in
follow-up). With ``in_situ`` non-progressive lesions are in-situ lesions too. In-situ lesions
count as local in the stage-by-mode counts and apart in ``dcis_*``; ``stage2plus`` and the
invasive records never include them; per woman, ``in_situ`` marks a diagnosis that is in situ.

Stage at detection (SEER summary stage): a tumour found at fraction ``f`` of its sojourn (1 when
clinical) is distant with probability ``p_distant * f**k`` and regional-or-distant with
``(p_regional + p_distant) * f**k`` (one uniform per woman, so earlier detection never gives a
later stage; ``k`` may differ before 50). Its diameter is ``threshold * (D_c / threshold)**f``
(exponential growth from the detection threshold to the clinical diameter ``D_c``). AJCC stage II
or higher (the trial endpoint) is approximated as diameter > 20 mm (T2+) or SEER
regional/distant (N+ or M1).

The cure model: the cancer is lethal with probability
``q(stage) * (1 - r(stage) * clip((age - 50) / 20, 0, 1)) * scale * size_factor``, where
``size_factor = 1 - effect * (1 - h_s(d) / H_s)`` credits a smaller tumour within its stage
(:func:`size_factor`); a lethal cancer kills the woman ``Exp(mean by stage)`` years after the date
of clinical diagnosis she would have had without screening (screening cures, through a smaller
size and an earlier stage; it does not move a still-lethal death earlier or later).

Outcome counts (:data:`OUTCOMES`) are whole numbers, and life-years are summed in micro-years
(int64), so totals are exactly additive over chunks in any order (bit-identical results for any
chunking).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from pebs.screening.policy import MODALITIES
from pebs.sim.cohort import Cohort, clinical_diameter
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
    "stage2plus", "excluded_history", "size_um_screen", "size_um_interval", "size_um_clinical",
    "false_positives_short", "visits_short",
    "dcis_detected", "dcis_precursor_detected", "dcis_clinical", "overdiagnosed_dcis",
)  # fmt: skip
"""Names of the additive counts, in storage order (see docs/simulation.md for definitions)."""
MICRO = 1_000_000
DEFAULT_INTERVAL_YEARS = 2.0
T2_MM = 20.0
"""AJCC T2 starts above 20 mm."""


def stage_at(
    params: Parameters, fraction: np.ndarray, u: np.ndarray, ages: np.ndarray | None = None
) -> np.ndarray:
    """Stage code (0 local, 1 regional, 2 distant) at sojourn fraction ``fraction`` in [0, 1].

    ``ages``: age at detection, for the exponent before 50 (None: the exponent from 50; the
    exponent does not matter at ``fraction`` 1, clinical detection).
    """
    exponent = params.stage_exponent
    young = params.stage_exponent_under_50
    if ages is not None and young is not None and young != exponent:
        exponent = np.where(ages < 50.0, young, exponent)
    scale = np.clip(fraction, 0.0, 1.0) ** exponent
    p_distant = params.stage_clinical[2] * scale
    p_advanced = (params.stage_clinical[1] + params.stage_clinical[2]) * scale
    return np.where(u < p_distant, 2, np.where(u < p_advanced, 1, 0)).astype(np.int8)


def diameter_at(params: Parameters, clinical_size: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Diameter (mm) at sojourn fraction ``fraction`` of a tumour of clinical diameter given."""
    threshold = params.threshold_mm
    return threshold * (clinical_size / threshold) ** np.clip(fraction, 0.0, 1.0)


def _size_h(params: Parameters, stage: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Gompertzian size-lethality h_s(d) (local, regional); 1 for distant."""
    s = np.minimum(stage, 1)
    g = np.exp(-np.exp(-(size - params.size_centre_mm) / params.size_width_mm))
    h = params.size_a[s] + params.size_b[s] * g
    return np.where(stage >= 2, 1.0, h)


@functools.lru_cache(maxsize=8)
def _size_norm(params: Parameters) -> np.ndarray:
    """(3,) mean of h_s over clinically detected tumours of each stage (deterministic grid)."""
    from scipy.special import ndtr

    u = (np.arange(4000) + 0.5) / 4000  # stage latent, midpoints
    nodes, weights = hermegauss(40)
    stage = np.repeat(stage_at(params, np.ones(u.size), u), nodes.size)
    size = clinical_diameter(params, np.repeat(u, nodes.size), np.tile(ndtr(nodes), u.size))
    w = np.tile(weights, u.size)
    h = _size_h(params, stage, size)
    norm = np.array([(w * h)[stage == s].sum() / w[stage == s].sum() for s in range(3)])
    norm.flags.writeable = False
    return norm


def size_factor(params: Parameters, stage: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Multiplier of the stage lethality for a tumour of diameter ``size`` (mm) at ``stage``.

    ``1 - effect * (1 - h_s(d) / H_s)``: 1 on average over clinically detected tumours of the
    stage, below 1 for smaller ones (see ``[survival.size]`` in ``parameters.toml``).
    """
    ratio = _size_h(params, stage, size) / _size_norm(params)[stage]
    return 1.0 - params.size_effect * (1.0 - ratio)


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
    n = ok.size
    is_clinical_dx = (cohort.clinical < cohort.death_other) & (cohort.clinical <= cohort.exit)
    by_screen = screened.screen_progressive
    after_np = screened.screen_non_progressive
    prevented = screened.screen_dcis  # the in-situ phase was found: no invasive cancer
    # progressive cancer diagnosed in follow-up
    dx = np.flatnonzero(by_screen | (is_clinical_dx & ~prevented))
    # a non-progressive lesion that surfaces clinically at the end of its detectable phase
    np_surfaces = (
        cohort.np_symptomatic
        & (cohort.np_end < cohort.death_other)
        & (cohort.np_end <= cohort.exit)
    )
    np_clinical = np_surfaces & ~after_np
    # per diagnosed woman (arrays of dx.size)
    scr = by_screen[dx]
    clinical = cohort.clinical[dx]
    dx_age = np.where(scr, screened.screen_age[dx], clinical)
    last_screen = screened.last_screen[dx]
    has_screen = np.isfinite(last_screen) & ~after_np[dx]
    gap = screened.last_gap[dx]
    gap = np.where(np.isfinite(gap), gap, DEFAULT_INTERVAL_YEARS)
    next_due = screened.next_due[dx]
    window_end = np.where(np.isfinite(next_due), next_due, last_screen + gap)
    is_interval = ~scr & has_screen & (clinical < window_end)
    mode = np.where(scr, 0, np.where(is_interval, 1, 2)).astype(np.int8)
    fraction = np.where(scr, (dx_age - cohort.onset[dx]) / cohort.sojourn[dx], 1.0)
    stage = stage_at(params, fraction, cohort.stage_u[dx], dx_age)
    size = diameter_at(params, cohort.clinical_size[dx], fraction)
    q = lethal_probability(params, stage, dx_age) * size_factor(params, stage, size)
    lethal = cohort.lethal_u[dx] < q
    bc_death = clinical + cohort.death_delay[dx] * params.mean_years_to_death[stage]
    dies = lethal & (bc_death < cohort.death_other[dx]) & (bc_death <= cohort.exit[dx])
    death = cohort.death_other.copy()
    death[dx[dies]] = bc_death[dies]
    life_years = np.minimum(death, cohort.exit) - cohort.entry
    in_situ_np = params.non_progressive_in_situ
    overdiagnosed_dcis = (prevented & ~is_clinical_dx) | (
        (after_np & ~np_surfaces) if in_situ_np else False
    )
    overdiagnosed = (after_np & ~np_surfaces) | (prevented & ~is_clinical_dx)
    overdiagnosed[dx] |= scr & ~is_clinical_dx[dx]

    d = ok[dx]
    counts = {name: 0 for name in OUTCOMES}
    counts.update({k: v for k, v in screened.totals.items()})
    counts["n_women"] = int(ok.sum())
    counts["false_positives"] = int(screened.n_false_positives[ok].sum())
    counts["benign_biopsies"] = int(screened.n_biopsies[ok].sum())
    n_np = int((after_np & ok).sum())
    n_precursor = int((prevented & ok).sum())
    n_np_clinical = int((np_clinical & ok).sum())
    counts["non_progressive_detected"] = n_np
    # lesions without a size (non-progressive, in situ) count as local, by mode of detection
    extras = (n_np + n_precursor, 0, n_np_clinical)
    for m, mode_name in enumerate(MODES):
        in_mode = d & (mode == m)
        name = ("screen_detected", "interval_cancers", "clinical_cancers")[m]
        counts[name] = int(in_mode.sum()) + extras[m]
        by_stage = np.bincount(stage[in_mode], minlength=3)
        for s, stage_name in enumerate(STAGES):
            counts[f"stage_{mode_name}_{stage_name}"] = int(by_stage[s]) + (
                extras[m] if s == 0 else 0
            )
        counts[f"size_um_{mode_name}"] = int(np.rint(size[in_mode] * 1000).sum())
    counts["interval_cancers_12m"] = int((d & (mode == 1) & (clinical - last_screen <= 1.0)).sum())
    counts["cancers"] = int(d.sum()) + n_np + n_precursor + n_np_clinical
    counts["dcis_precursor_detected"] = n_precursor
    counts["dcis_detected"] = n_precursor + (n_np if in_situ_np else 0)
    counts["dcis_clinical"] = n_np_clinical if in_situ_np else 0
    counts["overdiagnosed_dcis"] = int((overdiagnosed_dcis & ok).sum())
    counts["overdiagnosed"] = int((overdiagnosed & ok).sum())
    counts["advanced_cancers"] = int((d & (stage >= 1)).sum())
    counts["stage2plus"] = int((d & ((stage >= 1) | (size > T2_MM))).sum())
    counts["bc_deaths"] = int((d & dies).sum())
    counts["life_years_micro"] = int(np.rint(life_years[ok] * MICRO).astype(np.int64).sum())
    # a woman's diagnosis: her progressive cancer, else the lesion or in-situ phase found at a
    # screen, else the lesion that surfaced clinically
    found = after_np | prevented
    lesion_age = np.where(found, screened.screen_age, np.where(np_clinical, cohort.np_end, np.nan))
    lesion_mode = np.where(found, 0, np.where(np_clinical, 2, -1))
    in_situ = prevented | ((after_np | np_clinical) & in_situ_np)
    in_situ[dx] = False
    records = {
        "diagnosis_age": _scatter(n, dx, dx_age, lesion_age),
        "mode": _scatter(n, dx, mode, lesion_mode).astype(np.int8),
        "stage": _scatter(n, dx, stage, np.where(lesion_mode >= 0, 0, -1)).astype(np.int8),
        "size_mm": _scatter(n, dx, size, np.full(n, np.nan)),
        "in_situ": in_situ,
        "non_progressive_detected": after_np,
        "dcis_detected": prevented | (after_np & in_situ_np),
        "dcis_precursor_detected": prevented,
        "overdiagnosed": overdiagnosed,
        "bc_death": _scatter(n, dx, dies, np.zeros(n, bool)),
        "death_age": death,
        "last_screen": screened.last_screen,
        "n_screens": screened.n_screens,
        "n_false_positives": screened.n_false_positives,
        "n_biopsies": screened.n_biopsies,
    }
    return counts, records


def _scatter(n: int, idx: np.ndarray, values: np.ndarray, default: np.ndarray) -> np.ndarray:
    out = np.array(default, copy=True)
    out[idx] = values
    return out
