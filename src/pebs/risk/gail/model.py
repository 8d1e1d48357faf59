"""The whole BCRAT pipeline (recode -> relative risk -> absolute risk) and its result."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pebs.risk._arrays import ModelInputError, as_float_vectors
from pebs.risk.gail.absolute_risk import HazardTables, average_hazards, cancer_hazards
from pebs.risk.gail.codes import LIFETIME_AGE, NULLIPAROUS, UNKNOWN, Race, describe_all
from pebs.risk.gail.inputs import MAYBE_UNKNOWN, BcraInputs
from pebs.risk.gail.recode import HYPERPLASIA_RR, N_PATTERNS, Categories, _recode
from pebs.risk.gail.relative_risk import RelativeRisk, relative_risk

MODEL_ID = "gail"
"""Short name (the model card's id)."""
MODEL_NAME = "NCI BCRAT (Gail model)"
MODEL_VERSION = "BCRA 2.1.2 algorithm and parameters; pebs implementation 1"
"""Record both with every stored risk: the algorithm and tables are those of R's BCRA 2.1.2."""

_HYPERPLASIA_VALUES = (HYPERPLASIA_RR[UNKNOWN], HYPERPLASIA_RR[0], HYPERPLASIA_RR[1])


@dataclass(frozen=True)
class GailResult:
    """BCRAT results, one entry per woman. Risks are proportions; ``*_pct`` are percents."""

    absolute_risk: np.ndarray
    """Absolute risk of invasive breast cancer over [T1, T2), proportion 0..1 (NaN if rejected)."""
    average_risk: np.ndarray
    """Same window for an "average woman" of her age and race, proportion 0..1."""
    relative_risk: RelativeRisk
    """RR_Star1 (ages < 50) and RR_Star2 (ages >= 50); NaN if rejected."""
    categories: Categories
    """Recoded risk factors (NB, AM, AF, NR, R_Hyp)."""
    error: np.ndarray
    """:class:`~pebs.risk.gail.codes.GailError` flags per woman; 0 = valid."""
    inputs: BcraInputs
    """The checked inputs (1-D float64 arrays)."""

    model_name: str = MODEL_NAME
    model_version: str = MODEL_VERSION

    @property
    def absolute_risk_pct(self) -> np.ndarray:
        """Absolute risk in percent (0..100), as BCRA reports it."""
        return self.absolute_risk * 100.0

    @property
    def average_risk_pct(self) -> np.ndarray:
        """Average-woman risk in percent (0..100)."""
        return self.average_risk * 100.0

    @property
    def is_valid(self) -> np.ndarray:
        """True where the row was accepted."""
        return self.error == 0

    def reasons(self) -> np.ndarray:
        """Why each row was rejected: an object array of strings, "" for accepted rows."""
        return describe_all(self.error)

    @property
    def unknown(self) -> np.ndarray:
        """(n, 5) True where that input of :data:`~pebs.risk.gail.inputs.MAYBE_UNKNOWN` is coded
        99; ``HypPlas`` only after a biopsy (without one it is "not applicable")."""
        x = self.inputs
        biopsied = (x.N_Biop != UNKNOWN) & (x.N_Biop > 0)
        return np.column_stack([
            x.N_Biop == UNKNOWN, biopsied & (x.HypPlas == UNKNOWN), x.AgeMen == UNKNOWN,
            x.Age1st == UNKNOWN, x.N_Rels == UNKNOWN,
        ])  # fmt: skip

    def unknown_inputs(self, i: int) -> tuple[str, ...]:
        """Names of the unknown inputs of woman ``i``."""
        return tuple(
            name for name, flag in zip(MAYBE_UNKNOWN, self.unknown[i], strict=True) if flag
        )


@functools.cache
def _pattern_tables() -> tuple[HazardTables, RelativeRisk]:
    """Hazard tables and relative risks for every (race, NB, AM, AF, NR, R_Hyp) combination
    BCRAT can produce, in :func:`_profile_index` order."""
    race, nb, am, af, nr, hyp = np.meshgrid(
        np.arange(1, 12), np.arange(3), np.arange(3), np.arange(4), np.arange(3), np.arange(3),
        indexing="ij",
    )  # fmt: skip  # each (11, 3, 3, 4, 3, 3), ravelled in _profile_index order
    categories = Categories(
        biopsies=nb.ravel(), menarche=am.ravel(), first_birth=af.ravel(), relatives=nr.ravel(),
        hyperplasia_rr=np.asarray(_HYPERPLASIA_VALUES)[hyp.ravel()], race=race.ravel(),
        error=np.zeros(race.size, dtype=np.int32),
    )  # fmt: skip
    rr = relative_risk(categories)
    tables = HazardTables.from_hazards(*cancer_hazards(race.ravel(), rr.under_50, rr.from_50))
    return tables, rr


@functools.cache
def _average_tables() -> HazardTables:
    return HazardTables.from_hazards(*average_hazards(np.arange(1, 12)))


def _profile_index(categories: Categories) -> np.ndarray:
    hyp = np.select(
        [categories.hyperplasia_rr == value for value in _HYPERPLASIA_VALUES[1:]], [1, 2], 0
    )
    pattern = categories.pattern_number.astype(np.intp) - 1
    return ((categories.race.astype(np.intp) - 1) * N_PATTERNS + pattern) * 3 + hyp


def risk_bcra(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race) -> GailResult:
    """BCRAT absolute risk from inputs coded exactly as for the R package BCRA.

    Parameters
    ----------
    T1 : array_like, shape (n,)
        Current age in years, 20 <= T1 < 90 (fractional allowed).
    T2 : array_like, shape (n,)
        Projection age in years, T1 < T2 <= 90; 90 gives "lifetime" risk.
    N_Biop : array_like
        Number of breast biopsies; 99 = unknown.
    HypPlas : array_like
        Atypical hyperplasia in a biopsy: 0 no, 1 yes, 99 unknown or not applicable (must be 99
        when N_Biop is 0 or 99).
    AgeMen : array_like
        Age at menarche in years; 99 = unknown.
    Age1st : array_like
        Age at first live birth in years; 98 = nulliparous, 99 = unknown.
    N_Rels : array_like
        Number of first-degree relatives with breast cancer; 99 = unknown.
    Race : array_like
        1 White, 2 African-American, 3 Hispanic US-born, 4 Other/Native American, 5 Hispanic
        foreign-born, 6 Chinese, 7 Japanese, 8 Filipino, 9 Hawaiian, 10 Other Pacific Islander,
        11 Other Asian (:class:`~pebs.risk.gail.codes.Race`).

    Returns
    -------
    GailResult
        Risks as proportions (``absolute_risk``) and percents (``absolute_risk_pct``); rejected
        rows carry NaN and error flags (``error``, ``reasons()``).

    References
    ----------
    Gail et al., JNCI 1989; Costantino et al., JNCI 1999; Gail et al., JNCI 2007; Matsuno et al.,
    JNCI 2011; Banegas et al., JNCI 2017. Algorithm of the R package BCRA 2.1.2.

    Examples
    --------
    A 40-year-old White woman, one biopsy without atypia, menarche at 12, no child, one affected
    relative (R BCRA 2.1.2 gives 1.7295113500910002% and 0.57874458477174229%):

    >>> r = risk_bcra(T1=40, T2=45, N_Biop=1, HypPlas=0, AgeMen=12, Age1st=98, N_Rels=1, Race=1)
    >>> print(f"{r.absolute_risk_pct[0]:.6f}% vs average {r.average_risk_pct[0]:.6f}%")
    1.729511% vs average 0.578745%
    """
    return _risk(BcraInputs(T1, T2, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race).checked())


def _risk(x: BcraInputs) -> GailResult:
    """The whole pipeline on checked inputs (:meth:`BcraInputs.checked`)."""
    categories = _recode(x)
    valid = categories.error == 0
    all_valid = bool(valid.all())
    if all_valid:
        t1, t2, race = x.T1, x.T2, categories.race
        profile = _profile_index(categories)
    else:  # neutral values on rejected rows keep the table look-ups in range
        t1 = np.where(valid, x.T1, 20.0)
        t2 = np.where(valid, x.T2, 21.0)
        race = np.where(valid, categories.race, 1)
        profile = np.where(valid, _profile_index(categories), 0)
    tables, pattern_rr = _pattern_tables()
    absolute = tables.window_risk(profile, t1, t2)
    average = _average_tables().window_risk(race.astype(np.intp) - 1, t1, t2)
    rr = RelativeRisk(under_50=pattern_rr.under_50[profile], from_50=pattern_rr.from_50[profile])
    if not all_valid:
        for values in (absolute, average, rr.under_50, rr.from_50):
            values[~valid] = np.nan
    return GailResult(
        absolute_risk=absolute,
        average_risk=average,
        relative_risk=rr,
        categories=categories,
        error=categories.error,
        inputs=x,
    )


class BcratModel:
    """BCRAT behind the risk-model protocol (:class:`pebs.risk.protocol.RiskModel`): BCRA-coded
    inputs, the whole pipeline of :func:`risk_bcra`.

    >>> inputs = BcraInputs(T1=40, T2=45, N_Biop=1, HypPlas=99, AgeMen=99, Age1st=98, N_Rels=1,
    ...                     Race=1)
    >>> BCRAT.assess(inputs).unknown_inputs(0)
    ('HypPlas', 'AgeMen')
    """

    id = MODEL_ID
    name = MODEL_NAME
    version = MODEL_VERSION
    inputs = MAYBE_UNKNOWN

    def assess(self, inputs: BcraInputs) -> GailResult:
        """Check ``inputs`` once and run the model (as :func:`risk_bcra`)."""
        return _risk(inputs.checked())


BCRAT = BcratModel()
"""The model object for :mod:`pebs.risk.protocol` users (batch files, registries)."""


def _code(values: np.ndarray, unknown_code: float) -> np.ndarray:
    return np.where(np.isnan(values), unknown_code, values)


def _race_code(value: object) -> float:
    if isinstance(value, str):
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        if key.isdigit():
            return float(key)
        if key not in _RACE_NAMES:
            raise ModelInputError(
                f"race: unknown name {value!r}; allowed: {', '.join(_RACE_NAMES)} "
                "(or the BCRA codes 1..11)"
            )
        return _RACE_NAMES[key]
    return np.nan if value is None else float(value)


_RACE_NAMES = {member.name.lower(): float(member) for member in Race}


def _race_codes(race) -> np.ndarray:
    """Accept :class:`Race` members, integer codes or names such as ``"white"``."""
    values = np.asarray(race)
    if values.ndim > 1:
        raise ModelInputError(f"race: expected a 1-D array, got shape {values.shape}")
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    known: dict[object, float] = {}
    objects = np.asarray(race, dtype=object)  # keeps Race members and strings apart
    codes = [known[v] if v in known else known.setdefault(v, _race_code(v)) for v in objects.flat]
    return np.array(codes, dtype=np.float64).reshape(objects.shape)


def risk(
    *,
    age,
    n_biopsies,
    atypical_hyperplasia,
    age_at_menarche,
    age_at_first_birth,
    n_relatives,
    race,
    projection_age=None,
    nulliparous=False,
) -> GailResult:
    """BCRAT risk with named arguments; NaN or None means "unknown".

    Parameters
    ----------
    age : array_like
        Current age in years (20 <= age < 90; fractional allowed).
    n_biopsies : array_like
        Number of breast biopsies ever (NaN = unknown).
    atypical_hyperplasia : array_like
        1/True if a biopsy showed atypical hyperplasia, 0/False if not, NaN if unknown. Ignored
        ("not applicable") for women with no or unknown biopsies, unless it says 1, which is a
        contradiction and rejects the row.
    age_at_menarche, age_at_first_birth : array_like
        Ages in years (NaN = unknown). For a woman with no live birth pass ``nulliparous=True``.
    n_relatives : array_like
        Mother, sisters and daughters with breast cancer (NaN = unknown).
    race : array_like
        :class:`~pebs.risk.gail.codes.Race` members, BCRA codes 1..11, or names such as
        ``"white"``, ``"african_american"``, ``"hispanic_us_born"``, ``"chinese"``.
    projection_age : array_like, optional
        End of the window in years; default ``age + 5`` (five-year risk, capped at 90);
        90 = lifetime.
    nulliparous : array_like of bool, optional
        True for women who have never given birth (overrides ``age_at_first_birth``); False or
        NaN/None (unknown) leave ``age_at_first_birth`` in charge.

    Returns
    -------
    GailResult
        As :func:`risk_bcra`: ``absolute_risk`` (proportion) and ``absolute_risk_pct`` (percent).

    Examples
    --------
    The woman of :func:`risk_bcra`'s example (R BCRA 2.1.2: 1.7295113500910002%):

    >>> r = risk(age=40, n_biopsies=1, atypical_hyperplasia=False, age_at_menarche=12,
    ...          age_at_first_birth=None, nulliparous=True, n_relatives=1, race="white")
    >>> round(float(r.absolute_risk[0]), 7)
    0.0172951
    """
    x = as_float_vectors(
        age=age, n_biopsies=n_biopsies, atypical_hyperplasia=atypical_hyperplasia,
        age_at_menarche=age_at_menarche, age_at_first_birth=age_at_first_birth,
        n_relatives=n_relatives, nulliparous=nulliparous, race=_race_codes(race),
        projection_age=np.nan if projection_age is None else projection_age,
    )  # fmt: skip
    default_end = np.minimum(x["age"] + 5.0, LIFETIME_AGE)
    projection = np.where(np.isnan(x["projection_age"]), default_end, x.pop("projection_age"))
    race = x.pop("race")
    return _risk(BcraInputs(T2=projection, Race=race, **_factor_codes(**x)))


def bcra_codes(
    *,
    age,
    n_biopsies,
    atypical_hyperplasia,
    age_at_menarche,
    age_at_first_birth,
    n_relatives,
    race,
    nulliparous=False,
) -> dict[str, np.ndarray]:
    """Translate named risk factors (NaN/None = unknown) into BCRA's coded columns.

    Returns the arrays ``T1, N_Biop, HypPlas, AgeMen, Age1st, N_Rels, Race`` for
    :func:`risk_bcra` or :func:`~pebs.risk.gail.recode`; see :func:`risk` for the arguments.
    Unknown values become 99; ``nulliparous`` True becomes ``Age1st`` 98; hyperplasia "no" for a
    woman without (known) biopsies becomes 99 ("not applicable").

    >>> codes = bcra_codes(age=45, n_biopsies=0, atypical_hyperplasia=0, age_at_menarche=None,
    ...                    age_at_first_birth=None, nulliparous=True, n_relatives=1, race=1)
    >>> codes["HypPlas"], codes["Age1st"], codes["AgeMen"]
    (array([99.]), array([98.]), array([99.]))
    """
    x = as_float_vectors(
        age=age, n_biopsies=n_biopsies, atypical_hyperplasia=atypical_hyperplasia,
        age_at_menarche=age_at_menarche, age_at_first_birth=age_at_first_birth,
        n_relatives=n_relatives, nulliparous=nulliparous, race=_race_codes(race),
    )  # fmt: skip
    race = x.pop("race")
    return {**_factor_codes(**x), "Race": race}


def _factor_codes(
    *, age, n_biopsies, atypical_hyperplasia, age_at_menarche, age_at_first_birth, n_relatives,
    nulliparous,
) -> dict[str, np.ndarray]:  # fmt: skip
    """:func:`bcra_codes`'s kernel, without race: ``T1, N_Biop, HypPlas, AgeMen, Age1st,
    N_Rels`` from checked 1-D float64 arrays of one length."""
    n_biop = _code(n_biopsies, UNKNOWN)
    hyp = _code(atypical_hyperplasia, UNKNOWN)
    no_biopsy = (n_biop == 0) | (n_biop == UNKNOWN)
    hyp = np.where(no_biopsy & (hyp == 0), UNKNOWN, hyp)
    # Only an explicit True/1 means nulliparous; False and unknown (NaN) leave age_at_first_birth.
    age_1st = np.where(nulliparous == 1, NULLIPAROUS, _code(age_at_first_birth, UNKNOWN))
    return {
        "T1": age,
        "N_Biop": n_biop,
        "HypPlas": hyp,
        "AgeMen": _code(age_at_menarche, UNKNOWN),
        "Age1st": age_1st,
        "N_Rels": _code(n_relatives, UNKNOWN),
    }
