"""The open personalised five-year model (BCRAT factors + PRS313 + BI-RADS density, calibrated to a
country at every age with the iCARE method) and the MyPeBS risk levels.

See ``docs/models/personalised.md``.
"""

from pebs.risk.levels import LEVELS, UPPER_BOUNDS, risk_level
from pebs.risk.personalised.model import (
    CLASSICAL_INPUTS,
    COLUMNS,
    HORIZON_YEARS,
    INPUTS,
    LOG_RR,
    MODEL_ID,
    MODEL_NAME,
    MODEL_VERSION,
    START_AGES,
    AssessmentError,
    CountryModel,
    PersonalisedResult,
    assess,
    assess_population,
    calibrate_country,
    classical_design,
    classical_terms,
    country_model,
    describe,
)

__all__ = [
    "CLASSICAL_INPUTS",
    "COLUMNS",
    "HORIZON_YEARS",
    "INPUTS",
    "LEVELS",
    "LOG_RR",
    "MODEL_ID",
    "MODEL_NAME",
    "MODEL_VERSION",
    "START_AGES",
    "UPPER_BOUNDS",
    "AssessmentError",
    "CountryModel",
    "PersonalisedResult",
    "assess",
    "assess_population",
    "calibrate_country",
    "classical_design",
    "classical_terms",
    "country_model",
    "describe",
    "risk_level",
]
