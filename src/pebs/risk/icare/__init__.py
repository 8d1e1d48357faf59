"""Coherent absolute risk from relative risks and population incidence (the iCARE method).

Calibrates any log-relative-risk model ``x·β`` to a population's age-specific incidence, given a
reference population that represents the joint distribution of the risk factors, and computes
absolute risks over age windows with competing mortality (Pal Choudhury et al., PLoS One 2020;
algorithm of the R package iCARE, weights applied per reference row). Women with missing
covariates are handled with iCARE's quantile-bin rule. See ``docs/models/icare.md``.

Stages:

- :func:`calibrate` (rates + reference population + ``β``) -> :class:`Calibration`;
- :func:`absolute_risk` (linear predictors, complete covariates) -> risks as proportions;
- :func:`risk` (design matrix with NaN for missing covariates) -> :class:`IcareResult`;
- :func:`population_mean_risk`, :func:`reference_risks`, :func:`linear_predictor`.

All rates are per woman-year (a proportion per year) by single year of age; all risks are
**proportions** (0..1) unless a name ends in ``_pct``.
"""

from pebs.risk.icare.absolute_risk import absolute_risk, population_mean_risk, reference_risks
from pebs.risk.icare.by_age import (
    AgeCalibration,
    AgeRisk,
    calibrate_by_age,
    complete_risks,
    risk_by_age,
    yearly_terms,
)
from pebs.risk.icare.calibration import (
    DEFAULT_MAX_ITERATIONS,
    DEFAULT_TOLERANCE,
    Calibration,
    calibrate,
)
from pebs.risk.icare.codes import ERROR_REASONS, IcareError, describe
from pebs.risk.icare.linear_predictor import MAX_ABS_LP, linear_predictor
from pebs.risk.icare.missing import N_BINS, cutpoints
from pebs.risk.icare.model import METHOD_NAME, METHOD_VERSION, IcareResult, risk

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_TOLERANCE",
    "ERROR_REASONS",
    "MAX_ABS_LP",
    "METHOD_NAME",
    "METHOD_VERSION",
    "N_BINS",
    "AgeCalibration",
    "AgeRisk",
    "Calibration",
    "IcareError",
    "IcareResult",
    "absolute_risk",
    "calibrate",
    "calibrate_by_age",
    "complete_risks",
    "cutpoints",
    "describe",
    "linear_predictor",
    "population_mean_risk",
    "reference_risks",
    "risk",
    "risk_by_age",
    "yearly_terms",
]
