"""The open personalised five-year model: Gail factors + PRS313 + BI-RADS density, calibrated
to a country's incidence at every age with the iCARE method.

For a woman aged ``a`` (whole years at assessment)::

    log RR = LP_Gail(a) + ln(1.61) * z_PRS + ln(RR_density)

``LP_Gail`` is the NCI BCRAT linear predictor with the White (Gail 1989) coefficients, without
the attributable-risk factor: LP1 below 50, LP2 (with the biopsies-by-age term) from 50, taken at
the woman's age and held over the window. Its terms are separate design columns
(:data:`COLUMNS`), so that an unknown answer is one missing covariate.

Calibration is conditional on age (:mod:`pebs.risk.icare.by_age`): for each whole start age
``a`` from 40 to 79, a reference population of the country's women *aged a* (density at that
age, Gail predictor taken at that age) sets the baseline hazard over ``[a, a + 5)`` so that their
mean five-year risk equals the country's cumulative incidence over that window, with all-cause
mortality as the competing risk.

Unknown inputs (NaN/None: she does not know) use iCARE's missing-covariate rule with the reference
women of her age: her risk is the mean risk of those whose known factors give a similar
predictor. This applies to each classical factor (biopsies, menarche, first birth, relatives),
the PRS and density; an unknown atypical hyperplasia after a biopsy keeps BCRAT's RR 1.0. A woman
with no classical factor known gets no risk. The absolute risk over [a, a + 5) is a proportion;
its MyPeBS level follows :mod:`pebs.risk.levels`.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pebs.risk import icare
from pebs.risk._arrays import ModelInputError
from pebs.risk._flags import describe_flags, describe_flags_all
from pebs.risk.country import CountryTables, country_tables
from pebs.risk.density import DEFAULT_RR_SOURCE, _density_rr, density_rr
from pebs.risk.gail import UNKNOWN, BcraInputs, Categories, GailError, log_rr_coefficients
from pebs.risk.gail.model import _factor_codes
from pebs.risk.gail.recode import _recode
from pebs.risk.icare.by_age import _risk_by_age
from pebs.risk.inputs import RiskInputs
from pebs.risk.levels import risk_level
from pebs.risk.personalised.unknown import expected_risks
from pebs.risk.protocol import Rejection
from pebs.risk.prs import PRS313_OR_PER_SD
from pebs.risk.reference_population import PRS_POINTS, ReferencePopulation, reference_grid

MODEL_NAME = "pebs personalised 5-year (open: BCRAT factors + PRS313 + BI-RADS density, iCARE)"
MODEL_VERSION = "2.0"
"""Record both, and the country, with every stored risk. Not the MyPeBS trial's own engine.
2.0: calibrated at every start age; unknown classical factors by iCARE's missing-covariate rule."""
MODEL_ID = "pebs-personalised-5y"
"""Short name for files and tables (``pebs risk assess`` writes ``MODEL_ID vVERSION COUNTRY``)."""

HORIZON_YEARS = 5
FIRST_AGE = 40
"""Youngest whole-year age at assessment."""
LAST_START_AGE = 79
"""Oldest whole-year age at assessment."""
START_AGES = range(FIRST_AGE, LAST_START_AGE + 1)
"""Whole start ages, each with its own calibration and reference women."""
MIN_REFERENCE_PER_AGE = 500
"""A user cohort with fewer women of some age lends that age the women of the nearest ages."""

COLUMNS = (
    "menarche", "biopsies", "first_birth", "relatives", "first_birth_x_relatives", "prs",
    "density",
)  # fmt: skip
"""Design columns: the five BCRAT terms as log relative risks (biopsies with the age-50 term and
ln R_Hyp), the PRS z-score and ln RR_density."""
N_CLASSICAL = 5
"""The first :data:`N_CLASSICAL` columns make the BCRAT (classical) component."""
LOG_RR = np.array([1.0, 1.0, 1.0, 1.0, 1.0, math.log(PRS313_OR_PER_SD), 1.0])
"""Coefficients of the design columns."""

INPUTS = (
    "n_biopsies", "atypical_hyperplasia", "age_menarche", "age_first_birth",
    "n_first_degree_relatives", "density", "prs_z",
)  # fmt: skip
"""Inputs that may be unknown, with the names of ``pebs risk assess``'s columns."""
CLASSICAL_INPUTS = ("n_biopsies", "age_menarche", "age_first_birth", "n_first_degree_relatives")
"""At least one of these must be known."""


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
    NO_CLASSICAL = 256


REASONS = {
    AssessmentError.AGE: (
        f"age must be a number of years from {FIRST_AGE} to {LAST_START_AGE + 1} (exclusive)"
    ),
    AssessmentError.MENARCHE: "age_menarche must be > 0 and <= age, or unknown",
    AssessmentError.FIRST_BIRTH: (
        "age_first_birth must be between age_menarche and age, 'nulliparous', or unknown"
    ),
    AssessmentError.BIOPSIES: "n_biopsies must be a whole number >= 0, or unknown",
    AssessmentError.HYPERPLASIA: (
        "atypical_hyperplasia must be yes/no/unknown, and 'yes' needs at least one biopsy"
    ),
    AssessmentError.RELATIVES: (
        "n_first_degree_relatives must be a whole number from 0 to 98, or unknown"
    ),
    AssessmentError.PRS: "prs_z must be a finite number, or unknown",
    AssessmentError.MODEL: "the calibrated model could not give a risk for this woman",
    AssessmentError.NO_CLASSICAL: (
        "no classical risk factor is known: at least one of "
        + ", ".join(CLASSICAL_INPUTS)
        + " must be answered"
    ),
}
"""One sentence per flag, with the friendly field names of ``pebs risk assess``."""

REJECTED_INPUTS: dict[AssessmentError, tuple[str, ...]] = {
    AssessmentError.AGE: ("age",),
    AssessmentError.MENARCHE: ("age_menarche",),
    AssessmentError.FIRST_BIRTH: ("age_first_birth",),
    AssessmentError.BIOPSIES: ("n_biopsies",),
    AssessmentError.HYPERPLASIA: ("atypical_hyperplasia",),
    AssessmentError.RELATIVES: ("n_first_degree_relatives",),
    AssessmentError.PRS: ("prs_z",),
    AssessmentError.MODEL: (),
    AssessmentError.NO_CLASSICAL: CLASSICAL_INPUTS,
}
"""The inputs (names of :data:`INPUTS`, and ``age``) each flag is about."""

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
    """The personalised model calibrated to one country, one calibration per start age.

    A :class:`pebs.risk.protocol.FiveYearModel`: ``model.assess(RiskInputs(...))``.
    """

    id: ClassVar[str] = MODEL_ID
    name: ClassVar[str] = MODEL_NAME
    version: ClassVar[str] = MODEL_VERSION
    inputs: ClassVar[tuple[str, ...]] = INPUTS

    tables: CountryTables
    calibration: icare.AgeCalibration
    density_rr_source: str
    reference_description: str
    """Where the reference women come from."""
    reference_rows: tuple[int, ...]
    """Reference women used at each start age of :data:`START_AGES`."""
    marginal_unknowns: bool = False
    """True with the packaged reference grids: unknown inputs are averaged exactly over their
    distribution at her age (:mod:`pebs.risk.personalised.unknown`); False with a user cohort:
    iCARE's quantile-bin rule over the cohort's women of her age."""

    @property
    def country(self) -> str:
        return self.tables.code

    def __repr__(self) -> str:
        return (
            f"CountryModel({self.country}, start ages {FIRST_AGE}-{LAST_START_AGE}, "
            f"{self.reference_description!r})"
        )

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's and Hypothesis's printers
        printer.text(repr(self))

    def assess(self, inputs: RiskInputs) -> PersonalisedResult:
        """Check ``inputs`` once and assess every woman (as :func:`assess`)."""
        return _assess(self, inputs.checked())


def classical_terms(categories: Categories, ages: np.ndarray) -> tuple[np.ndarray, ...]:
    """The five BCRAT columns of :data:`COLUMNS` (White coefficients) at each woman's age.

    Their sum is BCRAT's log RR_Star1 below 50 and log RR_Star2 from 50 (``ages`` in years).
    """
    beta = log_rr_coefficients(1)
    nb = categories.biopsies.astype(np.float64)
    af = categories.first_birth.astype(np.float64)
    nr = categories.relatives.astype(np.float64)
    per_biopsy = np.where(ages >= 50, beta["N_Biop"] + beta["Age50xN_Biop"], beta["N_Biop"])
    first_birth = af * beta["Age1st"]
    return (
        categories.menarche * beta["AgeMen"],
        nb * per_biopsy + np.log(categories.hyperplasia_rr),
        first_birth,
        nr * beta["N_Rels"],
        af * nr * beta["Age1stxN_Rels"],
    )


def classical_design(categories: Categories, ages: np.ndarray, unknown=None) -> np.ndarray:
    """:func:`classical_terms` as an (n, 5) array.

    ``unknown`` is an optional (n, 4) boolean array for biopsies, menarche, first birth and
    relatives (in that order): their columns (and the first-birth-by-relatives term) are NaN.
    """
    columns = np.column_stack(classical_terms(categories, ages))
    if unknown is not None:
        nb_unknown, am_unknown, af_unknown, nr_unknown = np.asarray(unknown, dtype=bool).T
        mask = np.column_stack(
            [am_unknown, nb_unknown, af_unknown, nr_unknown, af_unknown | nr_unknown]
        )
        columns[mask] = np.nan
    return columns


def _design(classical: np.ndarray, prs_z: np.ndarray, rr_density: np.ndarray) -> np.ndarray:
    """Design matrix (n, 7) in the order of :data:`COLUMNS`; NaN marks a missing covariate."""
    return np.column_stack([classical, prs_z, np.log(rr_density)])


def _categories(population: ReferencePopulation) -> Categories:
    n = len(population)
    return Categories(
        biopsies=population.biopsies, menarche=population.menarche,
        first_birth=population.first_birth, relatives=population.relatives,
        hyperplasia_rr=population.hyperplasia_rr, race=np.ones(n, dtype=np.int8),
        error=np.zeros(n, dtype=np.int32),
    )  # fmt: skip


def _rows_near(ages: np.ndarray, age: int) -> np.ndarray:
    """Rows aged ``age`` (whole years), widened to the nearest ages until there are enough."""
    whole = np.floor(ages)
    if ages.size < MIN_REFERENCE_PER_AGE:
        raise ModelInputError(
            f"reference: has {ages.size} women; at least {MIN_REFERENCE_PER_AGE} are needed"
        )
    distance = np.abs(whole - age)
    spread = 0
    while np.count_nonzero(distance <= spread) < MIN_REFERENCE_PER_AGE:
        spread += 1
    return distance <= spread


def calibrate_country(
    country: str,
    reference: ReferencePopulation | None = None,
    *,
    density_rr_source: str = DEFAULT_RR_SOURCE,
    mortality_period: str | None = None,
) -> CountryModel:
    """Calibrate the model to ``country`` (code such as ``"FR"``) at every start age.

    ``reference`` defaults to the country's reference grid at each of :data:`START_AGES`
    (:func:`~pebs.risk.reference_population.reference_grid`: the distribution the reference
    population generator samples from, without Monte Carlo error). A user cohort may be given
    instead: each start age uses the cohort's women of that age (whole
    years), widened to the nearest ages when fewer than :data:`MIN_REFERENCE_PER_AGE`; their
    Gail predictor is taken at the start age. ``mortality_period`` selects the country's
    mortality table (default: the package's default period).
    """
    tables = (
        country_tables(country)
        if mortality_period is None
        else (country_tables(country, mortality_period))
    )
    designs, weights = [], []
    for age in START_AGES:
        if reference is None:
            women = reference_grid(country, age)
        else:
            women = reference.select(_rows_near(reference.ages, age))
        at_age = np.full(len(women), float(age))
        designs.append(
            _design(
                classical_design(_categories(women), at_age),
                women.prs_z,
                density_rr(women.density, density_rr_source),
            )
        )
        weights.append(women.weights)
    from_first = tables.ages >= FIRST_AGE
    incidence, mortality = icare.yearly_terms(
        tables.incidence[from_first], tables.competing_mortality[from_first]
    )
    calibration = icare.calibrate_by_age(
        incidence, mortality, first_age=FIRST_AGE, start_ages=START_AGES,
        horizon=HORIZON_YEARS, reference_designs=designs, log_rr=LOG_RR,
        reference_weights=weights,
    )  # fmt: skip
    description = (
        reference.description
        if reference is not None
        else f"pebs reference grids for {tables.code} at each start age "
        f"{FIRST_AGE}-{LAST_START_AGE} (Gail categories x density at that age x "
        f"{PRS_POINTS} PRS points)"
    )
    return CountryModel(
        tables, calibration, density_rr_source, description, tuple(len(d) for d in designs),
        marginal_unknowns=reference is None,
    )  # fmt: skip


@functools.cache
def country_model(country: str) -> CountryModel:
    """The default calibration for ``country``, computed once per process."""
    return calibrate_country(country)


_BIT = {name: 1 << k for k, name in enumerate(INPUTS)}
_CLASSICAL_BITS = sum(_BIT[name] for name in CLASSICAL_INPUTS)
_COVARIATE_BITS = _CLASSICAL_BITS | _BIT["density"] | _BIT["prs_z"]
"""Bits of the inputs that are model covariates (an unknown hyperplasia is BCRAT's RR 1.0)."""


@functools.cache
def _missing_labels() -> np.ndarray:
    """ "a;b" text for every combination of unknown inputs, indexed by its bit pattern."""
    return np.array(
        [
            ";".join(name for bit, name in enumerate(INPUTS) if code >> bit & 1)
            for code in range(1 << len(INPUTS))
        ],
        dtype=object,
    )


@dataclass(frozen=True)
class PersonalisedResult:
    """Five-year risks, one entry per woman. ``risk_5y`` is a proportion (0..1)."""

    risk_5y: np.ndarray
    """Absolute risk of invasive breast cancer over [age, age + 5), proportion; NaN if rejected."""
    level: np.ndarray
    """MyPeBS level: "low", "average", "high", "very_high" ("" if rejected)."""
    rr_classical: np.ndarray
    """Relative risk of the BCRAT factors (White coefficients, no attributable-risk factor);
    NaN where a classical factor is unknown (the component is unknown)."""
    rr_prs: np.ndarray
    """1.61 ** z_PRS; NaN where the PRS is unknown."""
    rr_density: np.ndarray
    """Relative risk of the BI-RADS category (vs a); NaN where density is unknown."""
    unknown_code: np.ndarray
    """Unknown inputs as bits (bit ``k`` set: ``INPUTS[k]`` unknown), uint8 (n,)."""
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

    @property
    def unknown(self) -> np.ndarray:
        """(n, len(INPUTS)) True where that input of :data:`INPUTS` was unknown."""
        bits = np.arange(len(INPUTS), dtype=np.uint8)
        return (self.unknown_code[:, None] >> bits & 1).astype(bool)

    @property
    def missing_prs(self) -> np.ndarray:
        return (self.unknown_code & _BIT["prs_z"]) != 0

    @property
    def missing_density(self) -> np.ndarray:
        return (self.unknown_code & _BIT["density"]) != 0

    def missing(self) -> np.ndarray:
        """Unknown inputs per woman, names of :data:`INPUTS` joined by ";" ("" if none)."""
        return _missing_labels()[self.unknown_code]

    def unknown_inputs(self, i: int) -> tuple[str, ...]:
        """Names of the unknown inputs of woman ``i``."""
        return tuple(name for name, flag in zip(INPUTS, self.unknown[i], strict=True) if flag)

    def reasons(self) -> np.ndarray:
        """Why each woman was rejected ("" if assessed), with the CLI's field names."""
        return describe_flags_all(self.error, REASONS)

    def rejections(self, i: int) -> tuple[Rejection, ...]:
        """Why woman ``i`` got no risk: each flag's reason and the inputs it is about."""
        error = int(self.error[i])
        return tuple(
            Rejection(REASONS[flag], REJECTED_INPUTS[flag]) for flag in AssessmentError
            if error & flag
        )  # fmt: skip


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
        As :func:`pebs.risk.gail.risk`; NaN/None = unknown, handled by iCARE's missing-covariate
        rule (an unknown atypical hyperplasia after a biopsy: BCRAT's RR 1.0). At least one of
        biopsies, menarche, first birth (or ``nulliparous``) and relatives must be known.
        ``n_relatives`` counts first-degree relatives with breast cancer.
    density : array_like, optional
        BI-RADS letters "a".."d" (or codes 0..3); empty/None/-1 = unknown.
    prs_z : array_like, optional
        Standardised PRS313 (z-score); NaN/None = unknown.

    Returns
    -------
    PersonalisedResult
    """
    return model.assess(
        RiskInputs(
            age=age, n_biopsies=n_biopsies, atypical_hyperplasia=atypical_hyperplasia,
            age_at_menarche=age_at_menarche, age_at_first_birth=age_at_first_birth,
            n_relatives=n_relatives, nulliparous=nulliparous, density=density, prs_z=prs_z,
        )
    )  # fmt: skip


def _assess(model: CountryModel, x: RiskInputs) -> PersonalisedResult:
    """:func:`assess`'s kernel: ``x`` is checked (:meth:`RiskInputs.checked`)."""
    ages = x.age
    n = ages.size
    codes = _factor_codes(
        age=ages, n_biopsies=x.n_biopsies, atypical_hyperplasia=x.atypical_hyperplasia,
        age_at_menarche=x.age_at_menarche, age_at_first_birth=x.age_at_first_birth,
        n_relatives=x.n_relatives, nulliparous=x.nulliparous,
    )  # fmt: skip
    unknown_code = np.zeros(n, dtype=np.uint8)
    for name, column in (
        ("n_biopsies", "N_Biop"),
        ("age_menarche", "AgeMen"),
        ("age_first_birth", "Age1st"),
        ("n_first_degree_relatives", "N_Rels"),
    ):
        unknown_code |= np.where(codes[column] == UNKNOWN, np.uint8(_BIT[name]), np.uint8(0))
    biopsied = (codes["N_Biop"] != UNKNOWN) & (codes["N_Biop"] > 0)
    hyperplasia_unknown = biopsied & (codes["HypPlas"] == UNKNOWN)
    unknown_code |= np.where(hyperplasia_unknown, np.uint8(_BIT["atypical_hyperplasia"]), 0)
    white = np.ones(n)  # the White (Gail 1989) coefficients for every woman
    categories = _recode(BcraInputs(T2=np.minimum(ages + HORIZON_YEARS, 90.0), Race=white, **codes))

    error = np.zeros(n, dtype=np.int32)
    for gail_flag, flag in _FROM_GAIL.items():
        error |= np.where(categories.error & gail_flag, np.int32(flag), np.int32(0))
    no_classical = (unknown_code & _CLASSICAL_BITS) == _CLASSICAL_BITS
    error |= np.where(no_classical, np.int32(AssessmentError.NO_CLASSICAL), np.int32(0))
    return _assess_categories(model, categories, ages, x.density, x.prs_z, error, unknown_code)


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
    return _assess_categories(
        model, _categories(population), population.ages, population.density, population.prs_z,
        np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.uint8),
    )  # fmt: skip


def _assess_categories(
    model, categories, ages, density_code, prs_z, error, unknown_code
) -> PersonalisedResult:
    start = np.floor(ages)
    in_range = (start >= FIRST_AGE) & (start <= LAST_START_AGE)
    error = error | np.where(in_range, 0, np.int32(AssessmentError.AGE))
    error |= np.where(np.isinf(prs_z), np.int32(AssessmentError.PRS), 0)
    unknown_code = unknown_code | np.where(density_code < 0, np.uint8(_BIT["density"]), 0)
    unknown_code |= np.where(np.isnan(prs_z), np.uint8(_BIT["prs_z"]), 0).astype(np.uint8)
    valid = error == 0

    terms = classical_terms(categories, start)
    classical = terms[0] + terms[1] + terms[2] + terms[3] + terms[4]
    rr_density = _density_rr(density_code, model.density_rr_source)  # NaN where missing
    beta_prs = LOG_RR[COLUMNS.index("prs")]
    risk = np.full(ages.size, np.nan)
    covariate_unknown = (unknown_code & _COVARIATE_BITS) != 0
    complete = np.flatnonzero(valid & ~covariate_unknown)
    if complete.size:
        lp = classical[complete] + beta_prs * prs_z[complete] + np.log(rr_density[complete])
        risk[complete] = icare.complete_risks(model.calibration, lp, start[complete] - FIRST_AGE)
    partial = np.flatnonzero(valid & covariate_unknown)
    if partial.size and model.marginal_unknowns:
        risk[partial] = _expected_risks(
            model, categories, start, density_code, prs_z, unknown_code, partial
        )
    elif partial.size:
        bits = unknown_code[partial]
        design = classical_design(
            _rows(categories, partial), start[partial],
            np.column_stack([(bits & _BIT[name]) != 0 for name in CLASSICAL_INPUTS]),
        )  # fmt: skip
        design = _design(design, prs_z[partial], rr_density[partial])
        result = _risk_by_age(model.calibration, design, start[partial])
        risk[partial] = result.risk
        error[partial] |= np.where(result.error != 0, np.int32(AssessmentError.MODEL), 0)
    classical_known = valid & ((unknown_code & _CLASSICAL_BITS) == 0)
    return PersonalisedResult(
        risk_5y=risk,
        level=risk_level(risk),
        rr_classical=np.where(classical_known, np.exp(classical), np.nan),
        rr_prs=np.where(valid, np.exp(prs_z * beta_prs), np.nan),
        rr_density=np.where(valid, rr_density, np.nan),
        unknown_code=unknown_code,
        error=error,
        country=model.country,
    )


_FACTOR_OF_INPUT = {
    "n_biopsies": "biopsies", "age_menarche": "menarche", "age_first_birth": "first_birth",
    "n_first_degree_relatives": "relatives", "density": "density", "prs_z": "prs",
}  # fmt: skip


def _expected_risks(model, categories, start, density_code, prs_z, unknown_code, rows):
    """:func:`~pebs.risk.personalised.unknown.expected_risks` per pattern of unknown inputs."""
    patterns = unknown_code[rows] & _COVARIATE_BITS
    out = np.empty(rows.size)
    by_pattern = np.argsort(patterns, kind="stable")  # each pattern's rows in their order
    bounds = np.flatnonzero(np.diff(patterns[by_pattern])) + 1
    for group in np.split(by_pattern, bounds):
        pattern = int(patterns[group[0]])
        women = rows[group]
        names = tuple(factor for name, factor in _FACTOR_OF_INPUT.items() if pattern & _BIT[name])
        out[group] = expected_risks(
            model, _rows(categories, women), start[women], density_code[women], prs_z[women],
            names, classical_terms,
        )  # fmt: skip
    return out


def _rows(categories: Categories, rows: np.ndarray) -> Categories:
    return Categories(**{name: value[rows] for name, value in categories.__dict__.items()})
