"""The open personalised five-year model: Gail factors + PRS313 + BI-RADS density, calibrated
to a country's incidence with the iCARE method.

For a woman aged ``a`` (whole years at assessment)::

    log RR = LP_Gail(a) + ln(1.61) * z_PRS + ln(RR_density)

``LP_Gail`` is the NCI BCRAT linear predictor with the White (Gail 1989) coefficients, without
the attributable-risk factor: LP1 below 50, LP2 (with the biopsies-by-age term) from 50, taken at
the woman's age and held over the window. The model is calibrated per country
(:func:`country_model`): with the country's invasive incidence and all-cause mortality from age
40 and a reference population of that country's women aged 40-74, iCARE finds the baseline hazard
that makes the population-average incidence equal the country's. A missing PRS or density uses
iCARE's missing-covariate rule. The absolute risk over [a, a + 5) is a proportion; its MyPeBS
level follows :mod:`pebs.risk.personalised.levels`.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass

import numpy as np

from pebs.risk import icare
from pebs.risk._arrays import ModelInputError, as_float_vectors
from pebs.risk._flags import describe_flags, describe_flags_all
from pebs.risk.country import CountryTables, country_tables
from pebs.risk.density import DEFAULT_RR_SOURCE, density_codes, density_rr
from pebs.risk.gail import Categories, GailError, bcra_codes, recode, relative_risk
from pebs.risk.personalised.levels import risk_level
from pebs.risk.prs import PRS313_OR_PER_SD
from pebs.risk.reference_population import ReferencePopulation, reference_population

MODEL_NAME = "pebs personalised 5-year (open: BCRAT factors + PRS313 + BI-RADS density, iCARE)"
MODEL_VERSION = "1.0"
"""Record both, and the country, with every stored risk. Not the MyPeBS trial's own engine."""
MODEL_ID = "pebs-personalised-5y"
"""Short name for files and tables (``pebs risk assess`` writes ``MODEL_ID vVERSION COUNTRY``)."""

HORIZON_YEARS = 5
FIRST_AGE = 40
"""Calibration starts here: the reference populations describe women aged 40-74."""
LAST_START_AGE = 79
"""Oldest whole-year age at assessment (beyond the reference populations' ages: extrapolated)."""
REFERENCE_SEED = 20261128
"""Seed of the packaged reference populations, so every run calibrates to the same women."""
REFERENCE_SIZE = 20_000

LOG_RR = np.array([1.0, math.log(PRS313_OR_PER_SD), 1.0])
"""Coefficients of the design columns (classical log RR, z_PRS, ln RR_density)."""
COLUMNS = ("classical", "prs", "density")


class AssessmentError(enum.IntFlag):
    """Why a woman got no risk (several flags may be set); 0 = assessed."""

    AGE = 1
    MENARCHE = 2
    FIRST_BIRTH = 4
    BIOPSIES = 8
    HYPERPLASIA = 16
    RELATIVES = 32
    PRS = 64
    MODEL = 128


REASONS = {
    AssessmentError.AGE: (
        f"age must be a number of years from {FIRST_AGE} to {LAST_START_AGE + 1} (exclusive)"
    ),
    AssessmentError.MENARCHE: "age_menarche must be > 0 and <= age, or empty (unknown)",
    AssessmentError.FIRST_BIRTH: (
        "age_first_birth must be between age_menarche and age, 'nulliparous', or empty (unknown)"
    ),
    AssessmentError.BIOPSIES: "n_biopsies must be a whole number >= 0, or empty (unknown)",
    AssessmentError.HYPERPLASIA: (
        "atypical_hyperplasia must be yes/no/unknown, and 'yes' needs at least one biopsy"
    ),
    AssessmentError.RELATIVES: (
        "n_first_degree_relatives must be a whole number from 0 to 98, or empty (unknown)"
    ),
    AssessmentError.PRS: "prs_z must be a finite number, or empty (missing)",
    AssessmentError.MODEL: "the calibrated model could not give a risk for this woman",
}
"""One sentence per flag, with the friendly field names of ``pebs risk assess``."""

_FROM_GAIL = {
    GailError.T1_OUT_OF_RANGE: AssessmentError.AGE,
    GailError.AGE_MEN_INVALID: AssessmentError.MENARCHE,
    GailError.AGE_1ST_INVALID: AssessmentError.FIRST_BIRTH,
    GailError.N_BIOP_INVALID: AssessmentError.BIOPSIES,
    GailError.HYPPLAS_WITHOUT_BIOPSY: AssessmentError.HYPERPLASIA,
    GailError.HYPPLAS_CODE: AssessmentError.HYPERPLASIA,
    GailError.N_RELS_INVALID: AssessmentError.RELATIVES,
}


def describe(error: int) -> str:
    """Reasons for one woman's flags, joined by "; " ("" when assessed)."""
    return describe_flags(error, REASONS)


@dataclass(frozen=True)
class CountryModel:
    """The personalised model calibrated to one country."""

    tables: CountryTables
    reference: ReferencePopulation
    calibration: icare.Calibration
    density_rr_source: str

    @property
    def country(self) -> str:
        return self.tables.code


def classical_log_rr(categories: Categories, ages: np.ndarray) -> np.ndarray:
    """BCRAT log relative risk (White coefficients) at each woman's age: LP1 < 50 <= LP2."""
    white = Categories(**{**categories.__dict__, "race": np.ones_like(categories.race)})
    rr = relative_risk(white)
    return np.log(np.where(ages < 50, rr.under_50, rr.from_50))


def _design(classical: np.ndarray, prs_z: np.ndarray, rr_density: np.ndarray) -> np.ndarray:
    """Design matrix (n, 3) in the order of :data:`COLUMNS`; NaN marks a missing covariate."""
    return np.column_stack([classical, prs_z, np.log(rr_density)])


def calibrate_country(
    country: str,
    reference: ReferencePopulation | None = None,
    *,
    density_rr_source: str = DEFAULT_RR_SOURCE,
    mortality_period: str | None = None,
) -> CountryModel:
    """Calibrate the model to ``country`` (code such as ``"FR"``) with a reference population.

    ``reference`` defaults to the packaged generator's women for that country
    (:data:`REFERENCE_SIZE` rows, seed :data:`REFERENCE_SEED`); pass a user cohort to calibrate
    to it instead. ``mortality_period`` selects the country's mortality table (default: the
    package's default period).
    """
    tables = (
        country_tables(country)
        if mortality_period is None
        else (country_tables(country, mortality_period))
    )
    if reference is None:
        reference = reference_population(
            country, REFERENCE_SIZE, rng=np.random.default_rng(REFERENCE_SEED)
        )
    categories = Categories(
        biopsies=reference.biopsies, menarche=reference.menarche,
        first_birth=reference.first_birth, relatives=reference.relatives,
        hyperplasia_rr=reference.hyperplasia_rr, race=np.ones(len(reference), dtype=np.int8),
        error=np.zeros(len(reference), dtype=np.int32),
    )  # fmt: skip
    design = _design(
        classical_log_rr(categories, reference.ages),
        reference.prs_z,
        density_rr(reference.density, density_rr_source),
    )
    from_first = tables.ages >= FIRST_AGE
    calibration = icare.calibrate(
        tables.incidence[from_first],
        tables.competing_mortality[from_first],
        first_age=FIRST_AGE,
        reference_design=design,
        log_rr=LOG_RR,
        reference_weights=reference.weights,
    )
    return CountryModel(tables, reference, calibration, density_rr_source)


@functools.cache
def country_model(country: str) -> CountryModel:
    """The default calibration for ``country``, computed once per process."""
    return calibrate_country(country)


@dataclass(frozen=True)
class PersonalisedResult:
    """Five-year risks, one entry per woman. ``risk_5y`` is a proportion (0..1)."""

    risk_5y: np.ndarray
    """Absolute risk of invasive breast cancer over [age, age + 5), proportion; NaN if rejected."""
    level: np.ndarray
    """MyPeBS level: "low", "average", "high", "very_high" ("" if rejected)."""
    rr_classical: np.ndarray
    """Relative risk of the BCRAT factors (White coefficients, no attributable-risk factor)."""
    rr_prs: np.ndarray
    """1.61 ** z_PRS; NaN where the PRS is missing."""
    rr_density: np.ndarray
    """Relative risk of the BI-RADS category (vs a); NaN where density is missing."""
    missing_prs: np.ndarray
    missing_density: np.ndarray
    error: np.ndarray
    """:class:`AssessmentError` flags; 0 = assessed."""
    country: str
    model_name: str = MODEL_NAME
    model_version: str = MODEL_VERSION

    @property
    def risk_5y_pct(self) -> np.ndarray:
        """Five-year risk in percent (0..100)."""
        return self.risk_5y * 100.0

    @property
    def is_valid(self) -> np.ndarray:
        return self.error == 0

    def missing(self) -> np.ndarray:
        """Which inputs were missing, per woman: "", "prs", "density" or "prs;density"."""
        labels = np.array(["", "prs", "density", "prs;density"], dtype=object)
        return labels[self.missing_prs.astype(int) + 2 * self.missing_density.astype(int)]

    def reasons(self) -> np.ndarray:
        """Why each woman was rejected ("" if assessed), with the CLI's field names."""
        return describe_flags_all(self.error, REASONS)


def assess(
    model: CountryModel,
    *,
    age,
    n_biopsies,
    atypical_hyperplasia,
    age_at_menarche,
    age_at_first_birth,
    n_relatives,
    nulliparous=False,
    density=None,
    prs_z=None,
) -> PersonalisedResult:
    """Five-year risk and MyPeBS level for each woman, calibrated to ``model``'s country.

    Parameters
    ----------
    model : CountryModel
        From :func:`country_model` or :func:`calibrate_country`.
    age : array_like
        Age in years at assessment; the window is [floor(age), floor(age) + 5) (whole years, as
        the calibrated rates are by single year of age); 40 <= age < 80.
    n_biopsies, atypical_hyperplasia, age_at_menarche, age_at_first_birth, n_relatives, nulliparous
        As :func:`pebs.risk.gail.risk` (NaN/None = unknown, which BCRAT scores as the lowest
        category). ``n_relatives`` counts first-degree relatives with breast cancer.
    density : array_like, optional
        BI-RADS letters "a".."d" (or codes 0..3); empty/None/-1 = missing.
    prs_z : array_like, optional
        Standardised PRS313 (z-score); NaN/None = missing.

    Returns
    -------
    PersonalisedResult
    """
    codes = bcra_codes(
        age=age, n_biopsies=n_biopsies, atypical_hyperplasia=atypical_hyperplasia,
        age_at_menarche=age_at_menarche, age_at_first_birth=age_at_first_birth,
        n_relatives=n_relatives, nulliparous=nulliparous, race=1,
    )  # fmt: skip
    n = codes["T1"].size
    codes["Race"] = np.ones(n)
    ages = codes["T1"]
    x = as_float_vectors(
        age=ages, prs_z=np.full(n, np.nan) if prs_z is None else prs_z,
    )  # fmt: skip
    density_code = _density_input(density, n)
    categories = recode(T2=np.minimum(ages + HORIZON_YEARS, 90.0), **codes)

    error = np.zeros(n, dtype=np.int32)
    for gail_flag, flag in _FROM_GAIL.items():
        error |= np.where(categories.error & gail_flag, np.int32(flag), np.int32(0))
    return _assess_categories(model, categories, ages, density_code, x["prs_z"], error)


def assess_population(model: CountryModel, population: ReferencePopulation) -> PersonalisedResult:
    """Assess women already described by Gail categories (e.g. a synthetic population).

    >>> from pebs.risk.personalised import LEVELS
    >>> from pebs.risk.reference_population import reference_population
    >>> women = reference_population("FR", 100, rng=np.random.default_rng(1), ages=[45, 60])
    >>> result = assess_population(country_model("FR"), women)
    >>> bool(result.is_valid.all()), sorted(set(result.level)) <= sorted(LEVELS)
    (True, True)
    """
    n = len(population)
    categories = Categories(
        biopsies=population.biopsies, menarche=population.menarche,
        first_birth=population.first_birth, relatives=population.relatives,
        hyperplasia_rr=population.hyperplasia_rr, race=np.ones(n, dtype=np.int8),
        error=np.zeros(n, dtype=np.int32),
    )  # fmt: skip
    error = np.zeros(n, dtype=np.int32)
    return _assess_categories(
        model, categories, population.ages, population.density, population.prs_z, error
    )


def _assess_categories(model, categories, ages, density_code, prs_z, error) -> PersonalisedResult:
    n = ages.size
    start = np.floor(ages)
    in_range = (start >= FIRST_AGE) & (start <= LAST_START_AGE)
    error = error | np.where(in_range, 0, np.int32(AssessmentError.AGE))
    error |= np.where(np.isinf(prs_z), np.int32(AssessmentError.PRS), 0)
    valid = error == 0

    classical = np.full(n, np.nan)
    classical[valid] = classical_log_rr(_rows(categories, valid), ages[valid])
    rr_density = density_rr(density_code, model.density_rr_source)  # NaN where missing
    design = _design(classical, prs_z, rr_density)  # (n, 3)
    risk = np.full(n, np.nan)
    if valid.any():
        result = icare.risk(
            model.calibration, design[valid], age_start=start[valid], interval=HORIZON_YEARS
        )
        risk[valid] = result.risk
        error[valid] |= np.where(result.error != 0, np.int32(AssessmentError.MODEL), 0)
    return PersonalisedResult(
        risk_5y=risk,
        level=risk_level(risk),
        rr_classical=np.exp(classical),
        rr_prs=np.where(valid, np.exp(design[:, 1] * LOG_RR[1]), np.nan),
        rr_density=np.where(valid, rr_density, np.nan),
        missing_prs=np.isnan(prs_z),
        missing_density=density_code < 0,
        error=error,
        country=model.country,
    )


def _density_input(density, n: int) -> np.ndarray:
    if density is None:
        return np.full(n, -1, dtype=np.int8)
    values = np.asarray(density)
    if values.ndim == 0:
        values = np.full(n, values.item(), dtype=object)
    if values.dtype.kind in "biuf":
        codes = np.where(np.isnan(values.astype(float)), -1, values).astype(np.int8)
    else:
        codes = density_codes(values)
    if codes.size != n:
        raise ModelInputError(f"density: has {codes.size} values but other arguments have {n}")
    if not np.isin(codes, [-1, 0, 1, 2, 3]).all():
        raise ModelInputError("density: codes must be 0..3 (a..d) or -1 (missing)")
    return codes


def _rows(categories: Categories, rows: np.ndarray) -> Categories:
    return Categories(**{name: value[rows] for name, value in categories.__dict__.items()})
