"""The packaged reference-population distributions (``data/reference_populations.toml``).

Read once through :mod:`importlib.resources` and checked; see the file's header for its layout and
``docs/models/country-data.md`` for the choices per country.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

N_CATEGORIES = {"menarche": 3, "first_birth": 4, "biopsies": 3, "relatives": 3}
"""Gail (BCRAT) categories per classical factor: AM 0-2, AF 0-3, NB 0-2, NR 0-2."""

FACTORS = tuple(N_CATEGORIES)

_SHARE_TOLERANCE = 5e-6  # derived shares are rounded to 6 decimals


@dataclass(frozen=True)
class FactorDistributions:
    """Configured distributions of one country's reference population.

    Each ``shares`` array holds proportions (0-1) of the Gail categories 0, 1, ... and sums to 1.
    """

    country: str
    """Country code."""
    menarche: np.ndarray
    """Shares of AM 0, 1, 2, shape (3,)."""
    first_birth: np.ndarray
    """Shares of AF 0, 1, 2, 3, shape (4,)."""
    biopsies: np.ndarray
    """Shares of NB 0, 1, 2, shape (3,)."""
    relatives: np.ndarray
    """Shares of NR 0, 1, 2, shape (3,)."""
    hyperplasia_rr: float
    """R_Hyp given to every woman (1.0: atypical hyperplasia status unknown)."""
    density_table: str
    """Density prevalence table (:func:`pebs.risk.density.density_prevalence`)."""
    first_age: int
    """Youngest single year of age of the default age range."""
    last_age: int
    """Oldest single year of age of the default age range."""
    distribution_ids: dict[str, str]
    """Factor -> distribution id in the TOML file (for provenance)."""
    source_ids: dict[str, str]
    """Factor -> source id in the TOML file."""
    note: str
    """What is country-specific and what is a default."""

    def shares(self, factor: str) -> np.ndarray:
        """Shares of ``factor``: ``menarche``, ``first_birth``, ``biopsies`` or ``relatives``."""
        return getattr(self, factor)


@functools.cache
def raw_config() -> dict:
    """The parsed TOML file."""
    text = (
        files("pebs.risk")
        .joinpath("data", "reference_populations.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def _category_shares(name: str, entry: dict, sources: dict) -> np.ndarray:
    factor = entry.get("factor")
    if factor not in N_CATEGORIES or entry.get("source") not in sources:
        raise RuntimeError(f"reference_populations.toml: {name}: bad factor or source")
    mapping = np.asarray(entry["gail_category"], dtype=np.int64)
    values = np.asarray(entry["counts"] if "counts" in entry else entry["shares"], dtype=float)
    if (
        mapping.shape != values.shape
        or len(entry["published_categories"]) != values.size
        or np.any(values < 0)
        or np.any((mapping < 0) | (mapping >= N_CATEGORIES[factor]))
        or ("shares" in entry and abs(values.sum() - 1.0) > _SHARE_TOLERANCE)
    ):
        raise RuntimeError(f"reference_populations.toml: {name}: inconsistent categories")
    shares = np.bincount(mapping, weights=values, minlength=N_CATEGORIES[factor])
    shares = shares / shares.sum()  # counts -> proportions; rounded shares -> exact sum 1
    shares.setflags(write=False)
    return shares


@functools.cache
def factor_distributions(country: str) -> FactorDistributions:
    """Distributions configured for ``country`` (a key of the file's ``countries`` table)."""
    config = raw_config()
    entry = config["countries"][country]
    distributions = config["distributions"]
    shares = {}
    for factor in FACTORS:
        name = entry[factor]
        if distributions[name]["factor"] != factor:
            raise RuntimeError(f"reference_populations.toml: {country}.{factor} -> {name}")
        shares[factor] = _category_shares(name, distributions[name], config["sources"])
    defaults = config["defaults"]
    return FactorDistributions(
        country=country,
        **shares,
        hyperplasia_rr=float(defaults["hyperplasia_rr"]),
        density_table=entry["density_table"],
        first_age=int(defaults["first_age"]),
        last_age=int(defaults["last_age"]),
        distribution_ids={factor: entry[factor] for factor in FACTORS},
        source_ids={factor: distributions[entry[factor]]["source"] for factor in FACTORS},
        note=entry["note"],
    )
