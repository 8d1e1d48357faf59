"""The simulated women and their natural history, identical under every strategy.

Every value is drawn from a named counter-based stream keyed by the woman's global index
(:mod:`pebs.sim._random`), so a woman is the same whatever chunk she is simulated in and whatever
strategy is applied to her (common random numbers).

Per woman (ages in years):

- country (scenario weights), entry age (uniform on the scenario's range), the four Gail
  categories (country shares; all four kept, ``gail_categories``), PRS z ~ N(0, 1), a density
  quantile ``u`` (her BI-RADS category at age ``t`` is the category of quantile ``u`` in the
  country's prevalence at ``t``: she moves to less dense categories as the population does),
  relative risk at entry (:mod:`pebs.sim.risk_model`);
- other-cause death: all-cause mortality of her country from entry (breast-cancer deaths are
  included in the all-cause table, so competing mortality is slightly overstated);
- progressive cancer: age at clinical (symptomatic) diagnosis ``clinical`` with hazard
  ``RR * lambda0`` from entry (reproduces the registry incidence without screening), preclinical
  sojourn ``~ Exp(mean by age at clinical diagnosis)``, onset ``clinical - sojourn`` (may be before
  entry: a prevalent preclinical cancer);
- non-progressive lesion: onset with hazard ``ratio * RR * lambda`` from age 20; screen-detectable
  for an exponential dwell time (``np_end``); then it regresses, or surfaces clinically with
  probability ``symptomatic_share`` (``np_symptomatic``; 0 in the default set);
- ductal carcinoma in situ preceding the progressive cancer (probability ``precursor_share``):
  screen-detectable from ``dcis_onset`` to the cancer's ``onset`` (exponential duration), inf
  when none;
- tumour diameter at clinical detection (lognormal, correlated with the stage latent), and the
  stage and survival uniforms: used in :mod:`pebs.sim.outcomes` for stage, size and cure.

Uniforms come in pairs (two 32-bit halves of one hash, :func:`pebs.sim._random.uniform_pair`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from pebs.risk.density import density_relative_risks
from pebs.sim._random import stream_key, uniform_pair
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
    gail_categories: np.ndarray  # int8 (4, n): Gail categories in risk_model.FACTORS order
    prs_z: np.ndarray
    density_quantile: np.ndarray
    density_entry: np.ndarray  # int8 0..3
    rr: np.ndarray  # relative risk (population mean 1 at each entry age)
    table: np.ndarray  # intp baseline table of OnsetModel
    death_other: np.ndarray  # age at other-cause death
    clinical: np.ndarray  # age at clinical diagnosis of the progressive cancer (inf: none)
    onset: np.ndarray  # age at onset of the preclinical phase (inf: none)
    sojourn: np.ndarray  # years (nan: no progressive cancer)
    np_onset: np.ndarray  # age at onset of a non-progressive lesion (inf: none)
    stage_u: np.ndarray  # stage uniform (nan: no progressive cancer)
    lethal_u: np.ndarray  # cure uniform (nan: no progressive cancer)
    death_delay: np.ndarray  # years from clinical diagnosis to breast-cancer death if lethal
    arm: np.ndarray  # int8 0/1 random arm (trial mode; 0 without a trial)
    clinical_size: np.ndarray  # mm at clinical detection (nan: no progressive cancer)
    np_end: np.ndarray  # age at which the non-progressive lesion stops being detectable
    np_symptomatic: np.ndarray  # bool: the lesion surfaces clinically at np_end
    dcis_onset: np.ndarray  # age at onset of the in-situ phase before the cancer (inf: none)

    def __len__(self) -> int:
        return int(self.women.size)

    @property
    def relatives(self) -> np.ndarray:
        """Gail NR category (int8, a view of ``gail_categories``)."""
        return self.gail_categories[FACTORS.index("relatives")]


def scenario_onset_model(scenario: Scenario, params: Parameters) -> OnsetModel:
    lo, hi = scenario.entry_age
    last = int(np.floor(hi)) if hi > lo else int(np.floor(lo))
    multipliers = tuple(params.incidence_multipliers(c) for c in scenario.countries)
    return onset_model(
        scenario.countries, int(np.floor(lo)), last, params.prs_or_per_sd,
        params.density_rr_source, None if not any(multipliers) else multipliers,
    )  # fmt: skip


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
    if rows.size > 1 and rows[0] == rows.min() == rows.max():  # one table row: scalar bounds
        for bound in _density_bounds(countries):
            code += quantile >= bound[rows[0]]
        return code
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

    def pair(stream: str, who: np.ndarray = women) -> tuple[np.ndarray, np.ndarray]:
        return uniform_pair(stream_key(seed, replicate, stream), who)

    def per_woman(values: np.ndarray, where: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(n, fill)
        out[where] = values
        return out

    model = scenario_onset_model(scenario, params)
    weights = np.asarray(scenario.country_weights)
    lo, hi = scenario.entry_age
    # one country and one entry age need no draw (streams are keyed: skipping one changes no
    # other draw)
    u_country, u_entry = pair("country_entry") if weights.size > 1 or hi > lo else (None, None)
    country = _categorical(u_country, weights) if weights.size > 1 else np.zeros(n, dtype=np.int8)
    entry = lo + (hi - lo) * u_entry if hi > lo else np.full(n, lo)
    follow = np.inf if scenario.follow_up_years is None else scenario.follow_up_years
    exit_age = np.minimum(entry + follow, scenario.max_age)

    gail_u = (*pair("gail_a"), *pair("gail_b"))
    categories = np.empty((len(FACTORS), n), dtype=np.int8)
    for c, code in enumerate(model.countries):
        is_c = slice(None) if len(model.countries) == 1 else country == c
        shares = country_risk(code).shares
        for f in range(len(FACTORS)):
            categories[f, is_c] = _categorical(gail_u[f][is_c], shares[f])
    u_prs, quantile = pair("prs_density")
    prs_z = ndtri(u_prs)
    density_entry = density_code(model.countries, country, quantile, entry)
    gail = _gail_table()[(entry >= 50).astype(np.intp), *categories.astype(np.intp)]
    density_rr = _density_rr(params)[density_entry]
    table = model.table(country, entry)
    normaliser = model.normaliser.ravel()[table]
    rr = gail * params.prs_or_per_sd**prs_z * density_rr / normaliser

    c_idx = country.astype(np.intp)
    u_death, u_clinical = pair("death_clinical")
    mortality_target = model.mortality.at(c_idx, entry) - np.log(u_death)
    death_other = model.mortality.invert(c_idx, mortality_target)

    clinical_target = model.baseline.at(table, entry) - np.log(u_clinical) / rr
    clinical = model.baseline.invert(table, clinical_target)
    # tumour draws only for the women with a progressive cancer (keyed: the same for a woman
    # in any chunk); nan for the others
    has_cancer = np.flatnonzero(np.isfinite(clinical))
    cancer_women = women[has_cancer]
    u_sojourn, u_size = pair("sojourn_size", cancer_women)
    means = _by_age(params.sojourn_age_edges, params.sojourn_mean_years, clinical[has_cancer])
    sojourn = per_woman(-np.log(u_sojourn) * means, has_cancer, np.nan)
    onset = per_woman(clinical[has_cancer] - sojourn[has_cancer], has_cancer, np.inf)
    u_stage, u_lethal = pair("stage_survival", cancer_women)
    stage_u = per_woman(u_stage, has_cancer, np.nan)
    lethal_u = per_woman(u_lethal, has_cancer, np.nan)
    clinical_size = per_woman(clinical_diameter(params, u_stage, u_size), has_cancer, np.nan)
    death_delay = per_woman(-np.log(pair("death_delay", cancer_women)[0]), has_cancer, np.nan)

    ratio = params.non_progressive_ratio
    np_onset = np_end = np.full(n, np.inf)
    np_symptomatic = np.zeros(n, bool)
    if ratio > 0:
        np_target = -np.log(pair("non_progressive")[0]) / (ratio * rr)
        np_onset = model.incidence.invert(c_idx, np_target)
        lesion = np.flatnonzero(np.isfinite(np_onset))
        u_dwell, u_symptomatic = pair("np_dwell", women[lesion])
        dwell = -np.log(u_dwell) * params.non_progressive_dwell
        np_end = per_woman(np_onset[lesion] + dwell, lesion, np.inf)
        np_symptomatic[lesion] = u_symptomatic < params.non_progressive_symptomatic
    dcis_onset = np.full(n, np.inf)
    if params.dcis_precursor_share > 0:  # keyed by the women with a cancer, as the tumour draws
        u_precursor, u_phase = pair("dcis_precursor", cancer_women)
        has = u_precursor < params.dcis_precursor_share
        who = has_cancer[has]
        dcis_onset[who] = onset[who] + np.log(u_phase[has]) * params.dcis_precursor_dwell
    arm = np.zeros(n, np.int8)
    if scenario.trial is not None:
        arm = (pair("arm")[0] < 0.5).astype(np.int8)
    return Cohort(
        women=women, country=country, entry=entry, exit=exit_age, gail_categories=categories,
        prs_z=prs_z, density_quantile=quantile, density_entry=density_entry, rr=rr, table=table,
        death_other=death_other, clinical=clinical, onset=onset, sojourn=sojourn,
        np_onset=np_onset, stage_u=stage_u, lethal_u=lethal_u, death_delay=death_delay,
        arm=arm, clinical_size=clinical_size, np_end=np_end, np_symptomatic=np_symptomatic,
        dcis_onset=dcis_onset,
    )  # fmt: skip


def clinical_diameter(params: Parameters, stage_u: np.ndarray, u_size: np.ndarray) -> np.ndarray:
    """Diameter (mm) at clinical detection: lognormal, correlated with the stage latent.

    A small stage uniform means a more advanced stage (:func:`pebs.sim.outcomes.stage_at`), so
    the copula uses ``-ndtri(stage_u)``. Never below the detection threshold.
    """
    rho = params.stage_size_correlation
    z = rho * -ndtri(stage_u) + np.sqrt(1.0 - rho * rho) * ndtri(u_size)
    size = params.clinical_median_mm * np.exp(params.clinical_log_sd * z)
    return np.maximum(size, params.threshold_mm)


def _density_rr(params: Parameters) -> np.ndarray:
    return np.asarray(density_relative_risks(params.density_rr_source).rr, dtype=np.float64)
