"""Exam performance as lookup tables over (modalities bitmask, age group, density).

A visit may combine modalities (bit ``i`` of the mask = ``pebs.screening.MODALITIES[i]``). A
present lesion is detected unless every modality misses it, and a woman without a detected cancer
is recalled unless every modality is negative, each modality independently (optimistic for
detection; stated in ``parameters.toml``). Values are proportions.
"""

from __future__ import annotations

import functools

import numpy as np

from pebs.screening.policy import MODALITIES
from pebs.sim.parameters import SETTINGS, Parameters

N_MASKS = 1 << len(MODALITIES)
TOMOSYNTHESIS = MODALITIES.index("tomosynthesis")
MAMMOGRAPHY = MODALITIES.index("mammography")


def _combine(per_modality: np.ndarray) -> np.ndarray:
    """(n_modalities, ...) probabilities -> (N_MASKS, ...) 1 - prod(1 - p) over the mask's bits."""
    out = np.zeros((N_MASKS, *per_modality.shape[1:]))
    for mask in range(N_MASKS):
        miss = np.ones(per_modality.shape[1:])
        for m in range(len(MODALITIES)):
            if mask >> m & 1:
                miss = miss * (1.0 - per_modality[m])
        out[mask] = 1.0 - miss
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=8)
def sensitivity_table(params: Parameters) -> np.ndarray:
    """(N_MASKS, n_age_groups, 4): probability that a visit detects a present lesion."""
    return _combine(params.sensitivity)


@functools.lru_cache(maxsize=8)
def false_positive_table(params: Parameters) -> np.ndarray:
    """(n_settings, 3, N_MASKS, n_age_groups, 4): false-positive recall probability; axis 1 is
    first (0), subsequent (1) or subsequent within ``short_interval_years`` of the last attended
    screen (2: the subsequent mammography/tomosynthesis rate times the setting's multiplier)."""
    n_age = params.screening_age_edges.size + 1
    out = np.zeros((len(SETTINGS), 3, N_MASKS, n_age, 4))
    relative = (
        params.fp_age_multiplier[:, None] * params.fp_density_multiplier[None, :]
    )  # (n_age, 4)
    for s, setting in enumerate(SETTINGS):
        short = params.fp_subsequent[setting] * params.fp_short_interval_multiplier[setting]
        for k, base in enumerate((params.fp_first[setting], params.fp_subsequent[setting], short)):
            per_modality = np.zeros((len(MODALITIES), n_age, 4))
            for m in range(len(MODALITIES)):
                per_modality[m] = params.fp_other[m]
            per_modality[MAMMOGRAPHY] = np.clip(base * relative, 0, 1)
            per_modality[TOMOSYNTHESIS] = np.clip(
                base * relative * params.fp_tomosynthesis_multiplier, 0, 1
            )
            out[s, k] = _combine(per_modality)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=8)
def biopsy_table(params: Parameters) -> np.ndarray:
    """(n_settings, 2): share of false-positive recalls with a benign biopsy (first, subsequent)."""
    out = np.array(
        [[params.biopsy_first[s], params.biopsy_subsequent[s]] for s in SETTINGS], dtype=float
    )
    out.flags.writeable = False
    return out


def age_group(params: Parameters, ages: np.ndarray) -> np.ndarray:
    """Index of each age's screening age group."""
    return np.searchsorted(params.screening_age_edges, ages, side="right")
