"""Randomisation strata: which allocation list a participant draws from.

A stratum label joins the participant's values of the study's stratification factors, in the
order the study lists them, with ``":"``. The default strata are site x age band
(configurable in the study file),
so a 52-year-old woman at site ``FR-PA`` is in stratum ``"FR-PA:50-59"``.

Ages are **completed years** on the date the stratum is taken (the randomisation date); the service
computes them with :func:`pebs.screening.age_on`. Age bands are inclusive at both ends
(``60-70`` holds 60, 61, ..., 70) and must be contiguous: a woman whose age falls outside every band
is an error, never a silent nearest band.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

FACTORS = ("country", "site", "age_band")
"""Stratification factors pebs knows. ``age_band`` is computed from the value ``age``."""

SEPARATOR = ":"
"""Joins the factor values of a stratum label."""

_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_INPUT_FOR = {"country": "country", "site": "site", "age_band": "age"}


class StratumError(ValueError):
    """A stratification value is missing, malformed or outside the configured age bands."""


@dataclass(frozen=True)
class AgeBand:
    """Ages ``low`` to ``high`` in completed years, both included (``AgeBand(60, 70)`` holds 70)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
                raise StratumError(
                    f"age band {name} must be a whole number of years in 0..120, got {value!r}"
                )
        if self.low > self.high:
            raise StratumError(f"age band {self.low}-{self.high}: low must not exceed high")

    @property
    def label(self) -> str:
        """``"40-49"``."""
        return f"{self.low}-{self.high}"

    def __contains__(self, age: object) -> bool:
        return isinstance(age, int) and self.low <= age <= self.high


DEFAULT_AGE_BANDS = (AgeBand(40, 49), AgeBand(50, 59), AgeBand(60, 70))
"""MyPeBS-like default bands over the eligible ages 40-70."""


def _bands_text(bands: Sequence[AgeBand]) -> str:
    return ", ".join(band.label for band in bands)


@dataclass(frozen=True)
class StrataDefinition:
    """The stratification factors of a study, in label order, and its age bands.

    Parameters
    ----------
    factors
        Names from :data:`FACTORS`, each at most once, in the order they appear in labels.
    age_bands
        Ascending, contiguous, non-overlapping bands (used when ``"age_band"`` is a factor).

    Examples
    --------
    >>> StrataDefinition().factors, _bands_text(StrataDefinition().age_bands)
    (('site', 'age_band'), '40-49, 50-59, 60-70')
    """

    factors: tuple[str, ...] = ("site", "age_band")
    age_bands: tuple[AgeBand, ...] = DEFAULT_AGE_BANDS

    def __post_init__(self) -> None:
        if not isinstance(self.factors, tuple) or not self.factors:
            raise StratumError(
                f"strata factors must be a non-empty tuple of {', '.join(FACTORS)}, "
                f"got {self.factors!r}"
            )
        for factor in self.factors:
            if factor not in FACTORS:
                raise StratumError(
                    f"unknown strata factor {factor!r}; allowed: {', '.join(FACTORS)}"
                )
        if len(set(self.factors)) != len(self.factors):
            raise StratumError(f"strata factors {self.factors!r} name a factor more than once")
        if not isinstance(self.age_bands, tuple) or not self.age_bands:
            raise StratumError("strata age_bands must be a non-empty tuple of AgeBand")
        for before, after in itertools.pairwise(self.age_bands):
            if after.low != before.high + 1:
                raise StratumError(
                    f"age bands must be ascending and contiguous: {after.label} must start at "
                    f"{before.high + 1}, the year after {before.label} ends"
                )

    @property
    def inputs(self) -> tuple[str, ...]:
        """The values a participant needs for her stratum (``"age"`` for ``"age_band"``)."""
        return tuple(_INPUT_FOR[factor] for factor in self.factors)


DEFAULT_STRATA = StrataDefinition()


def age_band(age: int, bands: Sequence[AgeBand] = DEFAULT_AGE_BANDS) -> AgeBand:
    """The band holding ``age`` (completed years).

    Raises
    ------
    StratumError
        If ``age`` is not a whole number or lies outside every band.

    Examples
    --------
    >>> age_band(49).label, age_band(50).label, age_band(70).label
    ('40-49', '50-59', '60-70')
    """
    if isinstance(age, bool) or not isinstance(age, int):
        raise StratumError(f"age must be a whole number of completed years, got {age!r}")
    for band in bands:
        if age in band:
            return band
    raise StratumError(
        f"age {age} is outside the strata age bands {_bands_text(bands)} "
        "(completed years on the randomisation date)"
    )


def _checked_value(name: str, value: object) -> str:
    if not isinstance(value, str) or not _VALUE.match(value):
        raise StratumError(
            f"strata value {name}={value!r} must be a code of letters, digits, '_', '.' or '-' "
            "starting with a letter or digit"
        )
    return value


def stratum_label(
    definition: StrataDefinition = DEFAULT_STRATA,
    *,
    site: str | None = None,
    country: str | None = None,
    age: int | None = None,
) -> str:
    """The label of the stratum for these values; values the definition does not use are ignored.

    Raises
    ------
    StratumError
        Listing every missing value at once, or naming the malformed or out-of-band one.

    Examples
    --------
    >>> stratum_label(site="FR-PA", age=52)
    'FR-PA:50-59'
    >>> stratum_label(StrataDefinition(factors=("country", "age_band")), country="IT", age=40)
    'IT:40-49'
    """
    given = {"site": site, "country": country, "age": age}
    missing = [name for name in definition.inputs if given[name] is None]
    if missing:
        raise StratumError(
            f"strata values missing: {', '.join(missing)} (the strata factors are "
            f"{', '.join(definition.factors)})"
        )
    parts = []
    for factor in definition.factors:
        if factor == "age_band":
            parts.append(age_band(age, definition.age_bands).label)  # type: ignore[arg-type]
        else:
            parts.append(_checked_value(factor, given[factor]))
    return SEPARATOR.join(parts)


def stratum_values(label: str, definition: StrataDefinition = DEFAULT_STRATA) -> dict[str, str]:
    """Split a label back into ``{factor: value}``.

    >>> stratum_values("FR-PA:60-70")
    {'site': 'FR-PA', 'age_band': '60-70'}
    """
    parts = label.split(SEPARATOR) if isinstance(label, str) else []
    if len(parts) != len(definition.factors):
        raise StratumError(
            f"stratum label {label!r} does not have one value per factor "
            f"({SEPARATOR.join(definition.factors)})"
        )
    return dict(zip(definition.factors, parts, strict=True))


def all_strata(
    definition: StrataDefinition = DEFAULT_STRATA,
    *,
    sites: Sequence[str] = (),
    countries: Sequence[str] = (),
) -> tuple[str, ...]:
    """Every stratum label of a study: the product of its sites/countries and age bands.

    Examples
    --------
    >>> all_strata(sites=["BE-AN", "BE-BR"])
    ('BE-AN:40-49', 'BE-AN:50-59', 'BE-AN:60-70', 'BE-BR:40-49', 'BE-BR:50-59', 'BE-BR:60-70')
    """
    levels: dict[str, Sequence[str]] = {
        "site": [_checked_value("site", s) for s in sites],
        "country": [_checked_value("country", c) for c in countries],
        "age_band": [band.label for band in definition.age_bands],
    }
    for factor in definition.factors:
        if not levels[factor]:
            raise StratumError(f"all_strata needs the study's {factor} values; none were given")
    product = itertools.product(*(levels[factor] for factor in definition.factors))
    return tuple(SEPARATOR.join(values) for values in product)
