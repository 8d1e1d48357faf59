"""MyPeBS risk levels from five-year absolute risk (of any five-year model,
:class:`pebs.risk.protocol.FiveYearModel`).

Thresholds on five-year risk (proportions): low < 1%, average 1% to < 1.67%, high 1.67% to < 6%,
very high >= 6% (MyPeBS, NCT03672331; see ``docs/models/personalised.md``).
"""

from __future__ import annotations

import numpy as np

LEVELS = ("low", "average", "high", "very_high")
"""Level names, lowest first."""

UPPER_BOUNDS = (0.01, 0.0167, 0.06)
"""Five-year risk (proportion) at which each level ends: low < 0.01 <= average < 0.0167 <= high
< 0.06 <= very_high."""


def level_index(risk_5y) -> np.ndarray:
    """Position in :data:`LEVELS` of each five-year risk's (proportion) level, int8; -1 where
    the risk is NaN.

    >>> level_index([0.005, 0.01, 0.0166, 0.0167, 0.0599, 0.06, float("nan")]).tolist()
    [0, 1, 1, 2, 2, 3, -1]
    """
    risks = np.asarray(risk_5y, dtype=np.float64)
    index = np.searchsorted(np.asarray(UPPER_BOUNDS), risks, side="right")  # (n,) 0..3, NaN: 3
    return np.where(np.isnan(risks), -1, index).astype(np.int8)


def risk_level(risk_5y) -> np.ndarray:
    """MyPeBS level name for each five-year risk (proportion); "" where the risk is NaN.

    >>> risk_level([0.005, 0.01, 0.0166, 0.0167, 0.0599, 0.06, float("nan")]).tolist()
    ['low', 'average', 'average', 'high', 'high', 'very_high', '']
    """
    return np.asarray((*LEVELS, ""), dtype=object)[level_index(risk_5y)]  # -1: ""
