"""Risk levels of simulated women for the policies that have levels.

The level of a woman is computed from her simulated five-year risk (``risk_5y``, a proportion,
:func:`pebs.sim.risk_model.five_year_risk`), her relative risk compared with women of her entry age
and her family history, with the rule of the policy's own source:

- MyPeBS (levels low / average / high / very_high): thresholds on the five-year risk of
  :data:`pebs.risk.levels.UPPER_BOUNDS` (1%, 1.67%, 6%).
- WISDOM (low / average / elevated / highest): highest if the five-year risk is >= 6%;
  elevated if her relative risk is in the top 2.5% for her entry age; low if aged 40-49 with a
  five-year risk below 1.3%; otherwise average (Esserman et al. 2017, as in the policy file).
  Pathogenic variants are not simulated.
- Israel (average / increased): increased with at least one first-degree relative with breast
  cancer (Gail category NR >= 1), the Ministry's main criterion.
- NICE familial (near_population / moderate / high): every simulated woman is near population
  (family-history risk categories are not simulated).
- Any other policy with levels: its ``default_level`` (unknown when it has none).
"""

from __future__ import annotations

import numpy as np

from pebs.risk.levels import LEVELS as MYPEBS_LEVELS
from pebs.risk.levels import UPPER_BOUNDS

WISDOM_LEVELS = ("low", "average", "elevated", "highest")
ISRAEL_LEVELS = ("average", "increased")
NICE_LEVELS = ("near_population", "moderate", "high")
WISDOM_HIGHEST_RISK = 0.06
WISDOM_LOW_RISK = 0.013
UNKNOWN = -1


def level_codes(levels: tuple[str, ...], default_level: str, *, risk_5y, rr, rr_q975, ages,
                relatives) -> np.ndarray:  # fmt: skip
    """int8 level code (index in ``levels``; -1 unknown) of each woman (arrays of shape (n,))."""
    n = np.shape(ages)[0]
    if not levels:
        return np.full(n, UNKNOWN, dtype=np.int8)
    if levels == MYPEBS_LEVELS:
        return np.searchsorted(np.asarray(UPPER_BOUNDS), risk_5y, side="right").astype(np.int8)
    if levels == WISDOM_LEVELS:
        code = np.full(n, 1, dtype=np.int8)
        code[(ages < 50) & (risk_5y < WISDOM_LOW_RISK)] = 0
        code[rr >= rr_q975] = 2
        code[risk_5y >= WISDOM_HIGHEST_RISK] = 3
        return code
    if levels == ISRAEL_LEVELS:
        return (relatives >= 1).astype(np.int8)
    if levels == NICE_LEVELS:
        return np.zeros(n, dtype=np.int8)
    code = levels.index(default_level) if default_level else UNKNOWN
    return np.full(n, code, dtype=np.int8)
