"""The validation report's figures: every target against the model, incidence with and without
screening by country, and the trial in silico next to its design assumption.

:func:`validation_data` simulates them (plain numbers, no files);
``scripts/sim_validation_report.py`` writes ``docs/simulation-validation.md`` and its plots from
them. Monte Carlo intervals are the 2.5th and 97.5th percentiles over independent replicates
(different women, same parameters).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from pebs.risk.country import country_tables
from pebs.sim.incidence import PROGRAMMES, incidence_by_group
from pebs.sim.measures import evaluate
from pebs.sim.parameters import Parameters, load_parameters
from pebs.sim.result import run
from pebs.sim.scenario import load_scenario
from pebs.sim.targets import TargetSet, load_targets
from pebs.sim.trial import trial_summary
from pebs.stats import power_ratio

DESIGN_STAGE2PLUS_PER_100K = 480.0
"""Standard-arm AJCC stage II+ cumulative incidence over 4 years assumed to design MyPeBS (per
100,000 women), as quoted in the trial's planning figures used by this project."""
TRIAL_SIZES = (85_000, 53_000)
COUNTRIES = ("FR", "IT", "BE", "IL", "UK", "ES")


@dataclass
class TargetRow:
    id: str
    kind: str
    unit: str
    value: float
    low: float
    high: float
    interval: str
    definition: str
    country: str
    source: str
    model_mean: float
    model_low: float
    model_high: float

    @property
    def inside(self) -> bool:
        return self.low <= self.model_mean <= self.high


@dataclass
class TrialRow:
    parameters: str
    replicates: int
    n_women: int
    per_100k: tuple[float, float]  # standard, risk-based (means)
    per_100k_interval: tuple[tuple[float, float], tuple[float, float]]
    ratio: float
    power_replicates: float
    power: dict[int, dict[str, float]]  # trial size -> {"ratio 1": ..., "simulated ratio": ...}
    excluded: float  # share excluded (found before entry)


@dataclass
class ValidationData:
    parameters: str
    targets: TargetSet
    rows: list[TargetRow]
    incidence: dict[str, dict[str, np.ndarray]]  # country -> registry / no-screening / programme
    age_edges: np.ndarray
    trials: list[TrialRow]
    settings: dict = field(default_factory=dict)


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    return (
        float(values.mean()),
        float(np.percentile(values, 2.5)),
        float(np.percentile(values, 97.5)),
    )


def target_rows(targets: TargetSet, params: Parameters, *, n_women: int, seed: int,
                replicates: int) -> list[TargetRow]:  # fmt: skip
    values = evaluate([t.measure for t in targets.targets], params, n_women=n_women, seed=seed,
                      replicates=replicates)  # fmt: skip
    rows = []
    for t in targets.targets:
        mean, low, high = _interval(values[t.measure])
        rows.append(TargetRow(t.id, t.kind, t.unit, t.value, t.low, t.high, t.interval,
                              t.definition, t.country, t.source, mean, low, high))  # fmt: skip
    return rows


def incidence_rows(params: Parameters, *, n_women: int, seed: int) -> dict[str, dict]:
    """Country -> per age group: registry, model without screening, model with the programme."""
    out = {}
    for country in COUNTRIES:
        rates = incidence_by_group(country, params, n_women=n_women, seed=seed)
        registry = _registry_by_group(country, params)
        out[country] = {"registry": registry, "no-screening": rates["no-screening"],
                        "programme": rates["programme"]}  # fmt: skip
    return out


def _registry_by_group(country: str, params: Parameters) -> np.ndarray:
    """Unweighted mean of the single-year registry rates in each age group (from 30 to 99)."""
    table = np.asarray(country_tables(country).incidence)  # ages 20..100
    edges = np.concatenate([[30], params.incidence_age_edges, [100]]).astype(int)
    return np.array([table[lo - 20 : hi - 20].mean() for lo, hi in itertools.pairwise(edges)])


def trial_row(params_name: str, params: Parameters | None, *, seed: int, replicates: int,
              n_women: int | None = None) -> TrialRow:  # fmt: skip
    """The trial scenario with ``params`` (None: the scenario's own set), ``n_women`` (None: the
    trial's size)."""
    scenario = load_scenario("mypebs-trial")
    n = scenario.trial.n_women if n_women is None else n_women
    result = run(scenario, n_women=n, seed=seed, replicates=replicates, chunk_size=n,
                 parameters=params)  # fmt: skip
    summary = trial_summary(result, scenario)
    standard, risk = summary.per_100k[:, 0], summary.per_100k[:, 1]
    ratio = float(np.mean(summary.ratio))
    p_ref = float(standard.mean()) / 1e5
    evaluable = float(summary.n_women.sum(axis=1).mean()) / n  # not excluded before entry
    power = {}
    for size in TRIAL_SIZES:
        per_arm = size * evaluable / 2
        power[size] = {
            "ratio 1": power_ratio(p_ref, per_arm, per_arm, margin=scenario.trial.margin_ratio,
                                   alpha=scenario.trial.alpha),
            # no power function beyond the margin: the test then concludes with probability <= alpha
            "simulated ratio": power_ratio(p_ref, per_arm, per_arm, ratio=ratio,
                                           margin=scenario.trial.margin_ratio,
                                           alpha=scenario.trial.alpha)
            if 0 < ratio < scenario.trial.margin_ratio else float("nan"),
        }  # fmt: skip
    return TrialRow(
        parameters=params_name, replicates=replicates, n_women=n,
        per_100k=(float(standard.mean()), float(risk.mean())),
        per_100k_interval=(_interval(standard)[1:], _interval(risk)[1:]), ratio=ratio,
        power_replicates=summary.power, power=power, excluded=1 - evaluable,
    )  # fmt: skip


def validation_data(
    *, parameters: str = "europe", targets: str = "europe", n_women: int = 100_000,
    replicates: int = 5, trial_replicates: int = 10, seed: int = 20261128,
    trial_women: int | None = None,
) -> ValidationData:  # fmt: skip
    """Every figure of the report (see the module docstring)."""
    start = time.perf_counter()
    params = load_parameters(parameters)
    target_set = load_targets(targets)
    rows = target_rows(target_set, params, n_women=n_women, seed=seed, replicates=replicates)
    incidence = incidence_rows(params, n_women=n_women, seed=seed)
    trials = [
        trial_row("default", load_parameters("default"), seed=seed, replicates=trial_replicates,
                  n_women=trial_women),
        trial_row(parameters, params, seed=seed, replicates=trial_replicates,
                  n_women=trial_women),
    ]  # fmt: skip
    return ValidationData(
        parameters=params.label, targets=target_set, rows=rows, incidence=incidence,
        age_edges=np.concatenate([[30], params.incidence_age_edges, [100]]), trials=trials,
        settings={"n_women": n_women, "replicates": replicates, "seed": seed,
                  "trial_replicates": trial_replicates,
                  "seconds": round(time.perf_counter() - start, 1),
                  "countries_with_programme": tuple(PROGRAMMES)},
    )  # fmt: skip
