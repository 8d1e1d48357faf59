"""The open personalised five-year model (BCRAT factors + PRS313 + BI-RADS density, calibrated to a
country with the iCARE method) and the MyPeBS risk levels. See ``docs/models/personalised.md``.
"""

from pebs.risk.personalised.levels import LEVELS, UPPER_BOUNDS, risk_level
from pebs.risk.personalised.model import (
    COLUMNS,
    HORIZON_YEARS,
    LOG_RR,
    MODEL_ID,
    MODEL_NAME,
    MODEL_VERSION,
    AssessmentError,
    CountryModel,
    PersonalisedResult,
    assess,
    assess_population,
    calibrate_country,
    classical_log_rr,
    country_model,
    describe,
)

__all__ = [
    "COLUMNS",
    "HORIZON_YEARS",
    "LEVELS",
    "LOG_RR",
    "MODEL_ID",
    "MODEL_NAME",
    "MODEL_VERSION",
    "UPPER_BOUNDS",
    "AssessmentError",
    "CountryModel",
    "PersonalisedResult",
    "assess",
    "assess_population",
    "calibrate_country",
    "classical_log_rr",
    "country_model",
    "describe",
    "risk_level",
]
