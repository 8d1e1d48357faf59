"""The simulator's parameters: a versioned TOML file with the source of every value.

The packaged file is ``pebs/sim/parameters.toml``; :func:`load_parameters` reads it (or a copy
given by path) into a frozen :class:`Parameters`. Values are proportions (0-1) and years.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from pebs.screening.policy import MODALITIES

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
    stage_exponent: float
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

    @property
    def label(self) -> str:
        """``name version``, recorded with every result."""
        return f"{self.name} {self.version}"

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


def parse_parameters(text: str) -> Parameters:
    """Parameters from the text of a parameter file (checked: shapes, ranges)."""
    raw = tomllib.loads(text)
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
    settings = {k: v for k, v in fp["country_setting"].items()}
    for country, setting in settings.items():
        if setting not in SETTINGS:
            raise ParameterError(
                f"parameters: country_setting.{country} = {setting!r}; "
                f"allowed: {', '.join(SETTINGS)}"
            )
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
    )


@functools.cache
def default_parameters() -> Parameters:
    """The packaged parameter file, read once per process.

    >>> default_parameters().label
    'pebs-sim 1.0.0'
    """
    return parse_parameters(
        files("pebs.sim").joinpath("parameters.toml").read_text(encoding="utf-8")
    )


def load_parameters(path: str | Path | None = None) -> Parameters:
    """The packaged parameters (``path`` None) or those of a parameter file."""
    if path is None:
        return default_parameters()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror})") from exc
    return parse_parameters(text)
