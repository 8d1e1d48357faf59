"""NCI Breast Cancer Risk Assessment Tool (BCRAT, the Gail model), vectorised.

Absolute risk of invasive breast cancer over an age window for women aged 20-89, for the 11
race/ethnicity groups of the R package BCRA 2.1.2, whose algorithm and parameters it reproduces.
Developed on US women: see ``docs/models/gail.md`` before using it elsewhere.

Three entry points return a :class:`GailResult`:

- :func:`risk` with named arguments (NaN/None = unknown);
- :func:`risk_bcra` with BCRA's codes (T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race);
- :data:`BCRAT`, the model object of :mod:`pebs.risk.protocol`: ``BCRAT.assess(BcraInputs(...))``.

The stages are available on their own: :func:`recode`, :func:`relative_risk`,
:func:`absolute_risk`, :func:`average_risk`.
"""

from pebs.risk.gail.absolute_risk import absolute_risk, average_risk
from pebs.risk.gail.codes import (
    ERROR_REASONS,
    LIFETIME_AGE,
    NULLIPAROUS,
    UNKNOWN,
    GailError,
    Race,
    describe,
)
from pebs.risk.gail.inputs import MAYBE_UNKNOWN, BcraInputs
from pebs.risk.gail.model import (
    BCRAT,
    MODEL_ID,
    MODEL_NAME,
    MODEL_VERSION,
    BcratModel,
    GailResult,
    bcra_codes,
    risk,
    risk_bcra,
)
from pebs.risk.gail.recode import Categories, recode
from pebs.risk.gail.relative_risk import RelativeRisk, log_rr_coefficients, relative_risk

__all__ = [
    "BCRAT",
    "ERROR_REASONS",
    "LIFETIME_AGE",
    "MAYBE_UNKNOWN",
    "MODEL_ID",
    "MODEL_NAME",
    "MODEL_VERSION",
    "NULLIPAROUS",
    "UNKNOWN",
    "BcraInputs",
    "BcratModel",
    "Categories",
    "GailError",
    "GailResult",
    "Race",
    "RelativeRisk",
    "absolute_risk",
    "average_risk",
    "bcra_codes",
    "describe",
    "log_rr_coefficients",
    "recode",
    "relative_risk",
    "risk",
    "risk_bcra",
]
