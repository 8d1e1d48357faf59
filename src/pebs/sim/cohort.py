"""The simulated women and their natural history, identical under every strategy.

Every value is drawn from a named counter-based stream keyed by the woman's global index
(:mod:`pebs.sim._random`), so a woman is the same whatever chunk she is simulated in and whatever
strategy is applied to her (common random numbers).

Per woman (ages in years):

- country (scenario weights), entry age (uniform on the scenario's range), Gail categories
  (country shares), PRS z ~ N(0, 1), a density quantile ``u`` (her BI-RADS category at age ``t`` is
  the category of quantile ``u`` in the country's prevalence at ``t``: she moves to less dense
  categories as the population does), relative risk at entry (:mod:`pebs.sim.risk_model`);
- other-cause death: all-cause mortality of her country from entry (breast-cancer deaths are
  included in the all-cause table, so competing mortality is slightly overstated);
- progressive cancer: age at clinical (symptomatic) diagnosis ``clinical`` with hazard
  ``RR * lambda0`` from entry (reproduces the registry incidence without screening), preclinical
  sojourn ``~ Exp(mean by age at clinical diagnosis)``, onset ``clinical - sojourn`` (may be before
  entry: a prevalent preclinical cancer);
- non-progressive lesion: onset with hazard ``ratio * RR * lambda`` from age 20; screen-detectable
  until death, never clinical;
- stage and survival uniforms: used in :mod:`pebs.sim.outcomes` for stage at detection and cure.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from pebs.risk.density import density_relative_risks
from pebs.sim._random import stream_key, uniform, uniform_pair
from pebs.sim.parameters import Parameters
from pebs.sim.risk_model import FACTORS, OnsetModel, _gail_table, country_risk, onset_model
from pebs.sim.scenario import Scenario


@dataclass(frozen=True)
class Cohort:
    """Strategy-independent arrays of one chunk of women, shape (n,) each."""

    women: np.ndarray  # int64 global index
    country: np.ndarray  # int8 index in scenario.countries
    entry: np.ndarray  # age at entry
    exit: np.ndarray  # age at which follow-up ends (death aside)
    relatives: np.ndarray  # int8 Gail NR category
    prs_z: np.ndarray
    density_quantile: np.ndarray
    density_entry: np.ndarray  # int8 0..3
    rr: np.ndarray  # relative risk (population mean 1 at each entry age)
    table: np.ndarray  # intp baseline table of OnsetModel
    death_other: np.ndarray  # age at other-cause death
    clinical: np.ndarray  # age at clinical diagnosis of the progressive cancer (inf: none)
    onset: np.ndarray  # age at onset of the preclinical phase (inf: none)
    sojourn: np.ndarray  # years
    np_onset: np.ndarray  # age at onset of a non-progressive lesion (inf: none)
    stage_u: np.ndarray  # stage uniform
    lethal_u: np.ndarray  # cure uniform
    death_delay: np.ndarray  # years from clinical diagnosis to breast-cancer death if lethal
    arm: np.ndarray  # int8 0/1 random arm (trial mode)

    def __len__(self) -> int:
        return int(self.women.size)


def scenario_onset_model(scenario: Scenario, params: Parameters) -> OnsetModel:
    lo, hi = scenario.entry_age
    last = int(np.floor(hi)) if hi > lo else int(np.floor(lo))
    return onset_model(
        scenario.countries, int(np.floor(lo)), last, params.prs_or_per_sd, params.density_rr_source
    )


@functools.lru_cache(maxsize=32)
def _density_bounds(countries: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """Per bound (a, a+b, a+b+c): (n_countries * 131,) cumulative shares by country and age."""
    stacked = np.stack([country_risk(c).density_cumulative for c in countries])  # (n_c, 131, 3)
    return tuple(np.ascontiguousarray(stacked[:, :, k].ravel()) for k in range(3))


def density_code(countries: tuple[str, ...], country: np.ndarray, quantile: np.ndarray, ages):
    """BI-RADS code 0..3 of each woman at ``ages`` from her density quantile (int8, shape (n,)).

    ``country`` indexes ``countries``; the code is the category of the woman's quantile in her
    country's prevalence table at the (whole) age.
    """
    rows = np.clip(ages, 0, 130).astype(np.intp)
    if len(countries) > 1:
        rows += country.astype(np.intp) * 131
    code = np.zeros(rows.size, dtype=np.int8)
    for bound in _density_bounds(countries):
        code += quantile >= bound.take(rows)
    return code


def _categorical(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.cumsum(shares)[:-1], u, side="right").astype(np.int8)


def _by_age(edges: np.ndarray, values: np.ndarray, ages: np.ndarray) -> np.ndarray:
    return values[np.searchsorted(edges, ages, side="right")]


def draw_cohort(
    scenario: Scenario, params: Parameters, seed: int, start: int, stop: int, replicate: int = 0
) -> Cohort:
    """The women ``start .. stop - 1`` of replicate ``replicate`` of a run with ``seed``."""
    women = np.arange(start, stop, dtype=np.int64)
    n = women.size

    def u(stream: str) -> np.ndarray:
        return uniform(stream_key(seed, replicate, stream), women)

    model = scenario_onset_model(scenario, params)
    weights = np.asarray(scenario.country_weights)
    country = _categorical(u("country"), weights)
    lo, hi = scenario.entry_age
    entry = lo + (hi - lo) * u("entry_age") if hi > lo else np.full(n, lo)
    follow = np.inf if scenario.follow_up_years is None else scenario.follow_up_years
    exit_age = np.minimum(entry + follow, scenario.max_age)

    gail_u = (*uniform_pair(stream_key(seed, replicate, "gail_a"), women),
              *uniform_pair(stream_key(seed, replicate, "gail_b"), women))  # fmt: skip
    categories = np.empty((len(FACTORS), n), dtype=np.int8)
    for c, code in enumerate(model.countries):
        is_c = country == c
        shares = country_risk(code).shares
        for f in range(len(FACTORS)):
            categories[f, is_c] = _categorical(gail_u[f][is_c], shares[f])
    prs_z = ndtri(u("prs"))
    quantile = u("density")
    density_entry = density_code(model.countries, country, quantile, entry)
    gail = _gail_table()[(entry >= 50).astype(np.intp), *categories.astype(np.intp)]
    density_rr = _density_rr(params)[density_entry]
    table = model.table(country, entry)
    normaliser = model.normaliser.ravel()[table]
    rr = gail * params.prs_or_per_sd**prs_z * density_rr / normaliser

    c_idx = country.astype(np.intp)
    mortality_target = model.mortality.at(c_idx, entry) - np.log(u("death"))
    death_other = model.mortality.invert(c_idx, mortality_target)

    clinical_target = model.baseline.at(table, entry) - np.log(u("clinical")) / rr
    clinical = model.baseline.invert(table, clinical_target)
    has_cancer = np.isfinite(clinical)
    means = _by_age(
        params.sojourn_age_edges, params.sojourn_mean_years, np.where(has_cancer, clinical, 0)
    )
    sojourn = -np.log(u("sojourn")) * means
    onset = np.where(has_cancer, clinical - sojourn, np.inf)

    ratio = params.non_progressive_ratio
    if ratio > 0:
        np_target = -np.log(u("non_progressive")) / (ratio * rr)
        np_onset = model.incidence.invert(c_idx, np_target)
    else:
        np_onset = np.full(n, np.inf)
    stage_u, lethal_u = uniform_pair(stream_key(seed, replicate, "stage_survival"), women)
    return Cohort(
        women=women, country=country, entry=entry, exit=exit_age, relatives=categories[3],
        prs_z=prs_z, density_quantile=quantile, density_entry=density_entry, rr=rr, table=table,
        death_other=death_other, clinical=clinical, onset=onset, sojourn=sojourn,
        np_onset=np_onset, stage_u=stage_u, lethal_u=lethal_u,
        death_delay=-np.log(u("death_delay")),
        arm=(u("arm") < 0.5).astype(np.int8),
    )  # fmt: skip


def _density_rr(params: Parameters) -> np.ndarray:
    return np.asarray(density_relative_risks(params.density_rr_source).rr, dtype=np.float64)
