"""Stage 2 of BCRAT: relative risks from the recoded categories.

With the race's log relative risks beta = (beta1 .. beta6) (``data/beta_log_rr.csv``)::

    LP1 = NB*beta1 + AM*beta2 + AF*beta3 + NR*beta4 + AF*NR*beta6 + ln(R_Hyp)
    LP2 = LP1 + NB*beta5
    RR_Star1 = exp(LP1)    (ages < 50)
    RR_Star2 = exp(LP2)    (ages >= 50)

The relative risk compares the woman with a woman of her race who has every factor in its lowest
category; it does not depend on the projection window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.risk.gail import _parameters
from pebs.risk.gail.recode import Categories


@dataclass(frozen=True)
class RelativeRisk:
    """Relative risks per woman (NaN where a factor or the race is invalid)."""

    under_50: np.ndarray
    """RR_Star1, applied to ages below 50."""
    from_50: np.ndarray
    """RR_Star2, applied to ages 50 and above."""


def relative_risk(categories: Categories) -> RelativeRisk:
    """Compute BCRAT's relative risks from recoded categories.

    Examples
    --------
    >>> from pebs.risk.gail.recode import recode
    >>> rr = relative_risk(recode(40, 45, 0, 99, 14, 19, 0, Race=1))  # every factor lowest
    >>> float(rr.under_50[0]), float(rr.from_50[0])
    (1.0, 1.0)
    """
    beta = _parameters.load().log_rr[_parameters.MODEL_OF_RACE[categories.race]]  # (n, 6)
    nb = categories.biopsies
    af = categories.first_birth
    nr = categories.relatives
    lp1 = (
        nb * beta[:, 0]
        + categories.menarche * beta[:, 1]
        + af * beta[:, 2]
        + nr * beta[:, 3]
        + af * nr * beta[:, 5]
        + np.log(categories.hyperplasia_rr)
    )
    lp2 = lp1 + nb * beta[:, 4]
    has_factors = (
        (nb >= 0) & (categories.menarche >= 0) & (af >= 0) & (nr >= 0) & (categories.race > 0)
    )
    return RelativeRisk(
        under_50=np.where(has_factors, np.exp(lp1), np.nan),
        from_50=np.where(has_factors, np.exp(lp2), np.nan),
    )


def log_rr_coefficients(race: int = 1) -> dict[str, float]:
    """BCRAT's log relative risks of one race code (1 = White), by term.

    Keys are :data:`~pebs.risk.gail._parameters.TERMS`: ``N_Biop``, ``AgeMen``, ``Age1st``,
    ``N_Rels``, ``Age50xN_Biop`` (added from age 50) and ``Age1stxN_Rels``.

    >>> round(log_rr_coefficients(1)["N_Rels"], 4)  # Gail et al. 1989, Table 2: RR 2.61
    0.9583
    """
    model = int(_parameters.MODEL_OF_RACE[race])
    if model < 0:
        raise ValueError(f"race: expected a race code 1..11, got {race!r}")
    values = _parameters.load().log_rr[model]
    return dict(zip(_parameters.TERMS, (float(v) for v in values), strict=True))
