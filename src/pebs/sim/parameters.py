"""The simulator's parameters: a versioned TOML file with the source of every value.

The packaged file is ``pebs/sim/parameters.toml``; :func:`load_parameters` reads it (or a copy
given by path) into a frozen :class:`Parameters`. Values are proportions (0-1) and years.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from pebs.screening.policy import MODALITIES
from pebs.sim._hazard import FIRST_AGE, N_YEARS

STAGES = ("local", "regional", "distant")
"""SEER summary stages, in code order 0..2."""
SETTINGS = ("us", "europe")
"""Screening-performance settings (false-positive recall and biopsy rates)."""


class ParameterError(ValueError):
    """The parameter file is unusable; the message names the key and the allowed values."""


def _frozen(values, dtype=np.float64) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Parameters:
    """Model parameters (see ``parameters.toml`` for the sources).

    Compared and hashed by identity (it holds arrays), so derived tables can be cached per object.
    """

    name: str
    version: str
    density_rr_source: str
    prs_or_per_sd: float
    sojourn_age_edges: np.ndarray  # (n_groups - 1,) years
    sojourn_mean_years: np.ndarray  # (n_groups,) years
    non_progressive_ratio: float
    stage_clinical: np.ndarray  # (3,) proportions at clinical detection
    stage_exponent: float  # k, for cancers detected from 50
    lethal_probability: np.ndarray  # (3,) before the age reduction
    lethal_reduction_at_70: np.ndarray  # (3,) proportion
    lethal_reduction_ages: tuple[float, float]
    mean_years_to_death: np.ndarray  # (3,)
    lethal_scale: float
    screening_age_edges: np.ndarray  # (n_age_groups - 1,)
    sensitivity: np.ndarray  # (n_modalities, n_age_groups, 4) proportion per exam
    fp_first: dict[str, float]  # setting -> mammography false-positive probability, first screen
    fp_subsequent: dict[str, float]
    fp_density_multiplier: np.ndarray  # (4,)
    fp_age_multiplier: np.ndarray  # (n_age_groups,)
    fp_tomosynthesis_multiplier: float
    fp_other: np.ndarray  # (n_modalities,) per-exam probability (mammography slots unused)
    country_setting: dict[str, str]
    biopsy_first: dict[str, float]
    biopsy_subsequent: dict[str, float]
    non_progressive_dwell: float = np.inf  # years, mean
    threshold_mm: float = 6.5
    clinical_median_mm: float = 20.0
    clinical_log_sd: float = 0.55
    stage_size_correlation: float = 0.0
    size_a: np.ndarray = None  # (2,) local, regional
    size_b: np.ndarray = None  # (2,)
    size_centre_mm: float = 15.0
    size_width_mm: float = 10.0
    size_effect: float = 1.0
    fp_short_interval_years: float = 1.5
    fp_short_interval_multiplier: dict[str, float] = None  # setting -> multiplier
    history_start_age: float = 30.0
    history_attendance: dict[str, float] = None  # country -> proportion
    incidence_age_edges: np.ndarray = None  # (n_groups - 1,) years
    incidence_adjustment: dict[str, np.ndarray] = None  # country -> (n_groups,) multipliers
    non_progressive_in_situ: bool = False  # non-progressive lesions are DCIS (counted as such)
    non_progressive_symptomatic: float = 0.0  # proportion surfacing clinically at their end
    dcis_precursor_share: float = 0.0  # proportion of invasive cancers preceded by DCIS
    dcis_precursor_dwell: float = 1.0  # years, mean of the screen-detectable DCIS phase
    stage_exponent_under_50: float | None = None  # k before 50 (None: stage_exponent)

    def incidence_multipliers(self, country: str) -> tuple[float, ...] | None:
        """Yearly multipliers of the country's registry incidence, ages 20..129 (None: 1)."""
        factors = (self.incidence_adjustment or {}).get(country)
        if factors is None:
            return None
        ages = FIRST_AGE + np.arange(N_YEARS) + 0.5
        groups = np.searchsorted(self.incidence_age_edges, ages, side="right")
        return tuple(float(v) for v in factors[groups])

    @property
    def label(self) -> str:
        """``name version``, recorded with every result."""
        return f"{self.name} {self.version}"

    def history_attendance_of(self, country: str) -> float:
        """Attendance of the country's programme before entry (proportion)."""
        try:
            return self.history_attendance[country]
        except KeyError:
            raise ParameterError(
                f"history.attendance: no attendance for country {country!r}; "
                f"known: {', '.join(sorted(self.history_attendance))}"
            ) from None

    def setting_of(self, country: str) -> str:
        """Screening-performance setting of a country code."""
        try:
            return self.country_setting[country]
        except KeyError:
            raise ParameterError(
                f"screening.false_positive.country_setting: no setting for country {country!r}; "
                f"known: {', '.join(sorted(self.country_setting))}"
            ) from None


def _get(table: dict, path: str):
    value = table
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ParameterError(f"parameters: missing key {path!r}")
        value = value[key]
    return value


def _proportions(values, path: str, shape=None) -> np.ndarray:
    array = _frozen(values)
    if shape is not None and array.shape != shape:
        raise ParameterError(f"parameters: {path} must have shape {shape}, got {array.shape}")
    if np.any((array < 0) | (array > 1)):
        raise ParameterError(f"parameters: {path} must be proportions in [0, 1], got {values}")
    return array


def _proportion(value, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ParameterError(f"parameters: {path} must be a proportion in [0, 1], got {value!r}")
    return float(value)


def _set_dotted(raw: dict, key: str, value) -> None:
    """Set ``a.b.c`` in nested dicts; the key must already exist (no new keys by accident)."""
    *parents, last = key.split(".")
    table = raw
    for part in parents:
        if not isinstance(table.get(part), dict):
            raise ParameterError(f"parameters: values.{key!r}: no table {part!r} in the base file")
        table = table[part]
    if last not in table:
        raise ParameterError(f"parameters: values.{key!r}: no such key in the base file")
    table[last] = value


def overlay(raw: dict, base_raw: dict) -> dict:
    """A derived parameter set: ``base_raw`` with the dotted keys of ``raw["values"]`` replaced.

    A derived file (for example a calibrated set) names its ``base`` (a shipped set), its own
    ``name`` and ``version``, and a ``[values]`` table of dotted keys
    (``"stage.progression_exponent" = 0.5``); every other value is the base's.
    """
    merged = copy.deepcopy(base_raw)
    for key, value in raw.get("values", {}).items():
        _set_dotted(merged, key, value)
    merged["name"] = raw.get("name", merged.get("name", ""))
    merged["version"] = _get(raw, "version")
    return merged


def parse_parameters(text: str) -> Parameters:
    """Parameters from the text of a parameter file (checked: shapes, ranges).

    A derived file (with a ``base`` key, see :func:`overlay`) is applied on its shipped base.
    """
    raw = tomllib.loads(text)
    if "base" in raw:
        base = raw["base"]
        if base not in PARAMETER_SETS or base == raw.get("set"):
            raise ParameterError(
                f"parameters: base: {base!r}; allowed: {', '.join(sorted(PARAMETER_SETS))}"
            )
        raw = overlay(raw, tomllib.loads(_shipped_text(base)))
    return _from_raw(raw)


def _from_raw(raw: dict) -> Parameters:
    edges = _frozen(_get(raw, "screening.age_edges"))
    n_age = edges.size + 1
    sensitivity = np.stack(
        [
            _proportions(
                _get(raw, f"screening.sensitivity.{m}"), f"screening.sensitivity.{m}", (n_age, 4)
            )
            for m in MODALITIES
        ]
    )
    sensitivity.flags.writeable = False
    fp = _get(raw, "screening.false_positive")
    fp_other = _frozen(
        [0.0 if m in ("mammography", "tomosynthesis") else fp[m] for m in MODALITIES]
    )
    stage = _proportions(_get(raw, "stage.clinical"), "stage.clinical", (3,))
    if abs(stage.sum() - 1) > 1e-6:
        raise ParameterError(f"parameters: stage.clinical must sum to 1, got {stage.sum()}")
    survival = _get(raw, "survival")
    sojourn = _get(raw, "natural_history.sojourn")
    if sojourn.get("distribution") != "exponential":
        raise ParameterError(
            "parameters: natural_history.sojourn.distribution: allowed: exponential"
        )
    means = _frozen(sojourn["mean_years"])
    if means.size != len(sojourn["age_edges"]) + 1 or np.any(means <= 0):
        raise ParameterError(
            "parameters: natural_history.sojourn.mean_years: one positive mean per age group"
        )
    tumour = _get(raw, "tumour")
    size = _get(raw, "survival.size")
    history = _get(raw, "history")
    correlation = float(tumour["stage_size_correlation"])
    if not -1 < correlation < 1:
        raise ParameterError("parameters: tumour.stage_size_correlation must be in (-1, 1)")
    if not 0 < float(tumour["threshold_mm"]) <= float(tumour["clinical_median_mm"]):
        raise ParameterError("parameters: tumour: 0 < threshold_mm <= clinical_median_mm")
    attendance = {k: float(v) for k, v in history["attendance"].items()}
    for country, value in attendance.items():
        if not 0 <= value <= 1:
            raise ParameterError(f"parameters: history.attendance.{country} must be in [0, 1]")
    dwell = float(_get(raw, "natural_history.non_progressive.mean_dwell_years"))
    if dwell <= 0:
        raise ParameterError("parameters: non_progressive.mean_dwell_years must be > 0")
    non_progressive = _get(raw, "natural_history.non_progressive")
    in_situ = non_progressive.get("in_situ", False)
    if not isinstance(in_situ, bool):
        raise ParameterError("parameters: non_progressive.in_situ: allowed: true, false")
    symptomatic = _proportion(non_progressive.get("symptomatic_share", 0.0),
                              "natural_history.non_progressive.symptomatic_share")  # fmt: skip
    dcis = _get(raw, "natural_history").get("dcis", {})
    precursor = _proportion(dcis.get("precursor_share", 0.0),
                            "natural_history.dcis.precursor_share")  # fmt: skip
    precursor_dwell = dcis.get("precursor_mean_dwell_years", 1.0)
    if (
        isinstance(precursor_dwell, bool)
        or not isinstance(precursor_dwell, int | float)
        or not (0 < precursor_dwell < np.inf)
    ):
        raise ParameterError(
            "parameters: natural_history.dcis.precursor_mean_dwell_years must be a number > 0 "
            f"(years), got {precursor_dwell!r}"
        )
    settings = {k: v for k, v in fp["country_setting"].items()}
    for country, setting in settings.items():
        if setting not in SETTINGS:
            raise ParameterError(
                f"parameters: country_setting.{country} = {setting!r}; "
                f"allowed: {', '.join(SETTINGS)}"
            )
    incidence = raw.get("incidence", {})
    incidence_edges = _frozen(incidence.get("adjustment_age_edges", []))
    adjustment = {}
    for country, factors in incidence.get("adjustment", {}).items():
        array = _frozen(factors)
        if array.shape != (incidence_edges.size + 1,) or np.any(array <= 0):
            raise ParameterError(
                f"parameters: incidence.adjustment.{country}: one positive multiplier per age "
                f"group ({incidence_edges.size + 1} groups of adjustment_age_edges)"
            )
        adjustment[country] = array
    return Parameters(
        name=str(raw.get("name", "")),
        version=str(_get(raw, "version")),
        density_rr_source=str(_get(raw, "population.density_rr_source")),
        prs_or_per_sd=float(_get(raw, "population.prs_or_per_sd")),
        sojourn_age_edges=_frozen(sojourn["age_edges"]),
        sojourn_mean_years=means,
        non_progressive_ratio=float(
            _get(raw, "natural_history.non_progressive.ratio_to_progressive")
        ),
        stage_clinical=stage,
        stage_exponent=float(_get(raw, "stage.progression_exponent")),
        stage_exponent_under_50=float(
            _get(raw, "stage").get("progression_exponent_under_50")
            or _get(raw, "stage.progression_exponent")
        ),
        lethal_probability=_proportions(
            survival["lethal_probability"], "survival.lethal_probability", (3,)
        ),
        lethal_reduction_at_70=_proportions(
            survival["reduction_at_70"], "survival.reduction_at_70", (3,)
        ),
        lethal_reduction_ages=(
            float(survival["reduction_from_age"]),
            float(survival["reduction_full_age"]),
        ),
        mean_years_to_death=_frozen(survival["mean_years_to_death"]),
        lethal_scale=float(survival["scale"]),
        screening_age_edges=edges,
        sensitivity=sensitivity,
        fp_first={k: float(v) for k, v in fp["mammography_first"].items()},
        fp_subsequent={k: float(v) for k, v in fp["mammography_subsequent"].items()},
        fp_density_multiplier=_frozen(fp["density_multiplier"]),
        fp_age_multiplier=_frozen(fp["age_multiplier"]),
        fp_tomosynthesis_multiplier=float(fp["tomosynthesis_multiplier"]),
        fp_other=fp_other,
        country_setting=settings,
        biopsy_first={
            k: float(v) for k, v in _get(raw, "screening.benign_biopsy.fraction_first").items()
        },
        biopsy_subsequent={
            k: float(v) for k, v in _get(raw, "screening.benign_biopsy.fraction_subsequent").items()
        },
        non_progressive_dwell=dwell,
        threshold_mm=float(tumour["threshold_mm"]),
        clinical_median_mm=float(tumour["clinical_median_mm"]),
        clinical_log_sd=float(tumour["clinical_log_sd"]),
        stage_size_correlation=correlation,
        size_a=_proportions(size["a"], "survival.size.a", (2,)),
        size_b=_proportions(size["b"], "survival.size.b", (2,)),
        size_centre_mm=float(size["centre_mm"]),
        size_width_mm=float(size["width_mm"]),
        size_effect=float(size["effect"]),
        fp_short_interval_years=float(fp["short_interval_years"]),
        fp_short_interval_multiplier={
            s: float(fp["short_interval_multiplier"].get(s, 1.0)) for s in SETTINGS
        },
        history_start_age=float(history["start_age"]),
        history_attendance=attendance,
        incidence_age_edges=incidence_edges,
        incidence_adjustment=adjustment,
        non_progressive_in_situ=in_situ,
        non_progressive_symptomatic=symptomatic,
        dcis_precursor_share=precursor,
        dcis_precursor_dwell=float(precursor_dwell),
    )


PARAMETER_SETS = {"default": "parameters.toml", "europe": "parameters-europe.toml"}
"""Shipped parameter sets by name: ``default`` (version 2, calibrated to US figures: CISNET and
BCSC) and ``europe`` (derived from ``default`` by ``pebs simulate calibrate`` on the European
targets, ``targets/europe.toml``)."""


def _shipped_text(name: str) -> str:
    return files("pebs.sim").joinpath(PARAMETER_SETS[name]).read_text(encoding="utf-8")


@functools.cache
def default_parameters() -> Parameters:
    """The packaged parameter file, read once per process.

    >>> default_parameters().label
    'pebs-sim 2.0.0'
    """
    return parse_parameters(_shipped_text("default"))


@functools.cache
def shipped_parameters(name: str) -> Parameters:
    """A shipped parameter set by name (:data:`PARAMETER_SETS`), read once per process."""
    if name not in PARAMETER_SETS:
        raise ParameterError(
            f"parameters: unknown set {name!r}; allowed: {', '.join(sorted(PARAMETER_SETS))}"
        )
    return default_parameters() if name == "default" else parse_parameters(_shipped_text(name))


def load_parameters(path: str | Path | None = None) -> Parameters:
    """The packaged parameters (``path`` None), a shipped set by name, or a parameter file."""
    if path is None:
        return default_parameters()
    if isinstance(path, str) and path in PARAMETER_SETS:
        return shipped_parameters(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_parameters(text)


def resolve_parameters(given: Parameters | None, named: str | None) -> Parameters:
    """The parameters of a run: those given, else the scenario's named set, else the default."""
    if given is not None:
        return given
    return default_parameters() if named is None else shipped_parameters(named)
