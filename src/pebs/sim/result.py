"""Running a scenario over chunks and replicates, and the results per 1,000 women.

Monte Carlo interval: each replicate is an independent set of ``n_women`` women (same scenario,
same seed, replicate number in every random key). For each outcome the result gives the mean over
replicates and the 2.5th and 97.5th percentiles of the replicate values (with few replicates these
are close to the minimum and maximum), plus the standard error of the mean (sd / sqrt(R)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from pebs.sim.chunk import ChunkTask, ChunkTotals, run_task
from pebs.sim.outcomes import MICRO, OUTCOMES
from pebs.sim.parameters import Parameters, resolve_parameters
from pebs.sim.scenario import NO_SCREENING, Scenario

DERIVED = ("life_years", "deaths_averted", "life_years_gained")
"""Outcomes computed from the counts: life-years (years), and differences from no screening."""
PER_1000 = 1000.0
_REPORTED = tuple(o for o in (*OUTCOMES[1:], *DERIVED) if o != "life_years_micro")


@dataclass(frozen=True)
class SimulationResult:
    """Totals of every replicate, and summaries per strategy and outcome."""

    scenario: str
    parameters: str
    seed: int
    n_women: int
    chunk_size: int
    strategies: tuple[str, ...]
    values: np.ndarray  # (n_replicates, n_strategies, n_outcomes) int64 totals

    @property
    def n_replicates(self) -> int:
        return int(self.values.shape[0])

    def replicate_totals(self, strategy: str, outcome: str) -> np.ndarray:
        """(n_replicates,) totals; life-years in years; derived outcomes included."""
        s = self.strategies.index(strategy)
        if outcome == "life_years":
            return self.values[:, s, OUTCOMES.index("life_years_micro")] / MICRO
        if outcome in ("deaths_averted", "life_years_gained"):
            base = self.strategies.index(NO_SCREENING)
            n = self.values[:, s, OUTCOMES.index("n_women")]
            n0 = self.values[:, base, OUTCOMES.index("n_women")]
            name = "bc_deaths" if outcome == "deaths_averted" else "life_years"
            own = self.replicate_totals(strategy, name)
            ref = self.replicate_totals(NO_SCREENING, name) * n / np.maximum(n0, 1)
            return ref - own if outcome == "deaths_averted" else own - ref
        return self.values[:, s, OUTCOMES.index(outcome)].astype(np.float64)

    def per_1000(self, strategy: str, outcome: str) -> np.ndarray:
        """(n_replicates,) outcome per 1,000 women of the strategy."""
        n = self.values[:, self.strategies.index(strategy), OUTCOMES.index("n_women")]
        return self.replicate_totals(strategy, outcome) * PER_1000 / np.maximum(n, 1)

    def summary(self, strategy: str, outcome: str) -> dict[str, float]:
        """Mean, 2.5th/97.5th percentiles and standard error, of the total and per 1,000."""
        out = {}
        for label, values in (("total", self.replicate_totals(strategy, outcome)),
                              ("per_1000", self.per_1000(strategy, outcome))):  # fmt: skip
            out[f"{label}_mean"] = float(values.mean())
            out[f"{label}_low"] = float(np.percentile(values, 2.5))
            out[f"{label}_high"] = float(np.percentile(values, 97.5))
            se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
            out[f"{label}_se"] = float(se)
        return out

    def rows(self) -> list[dict]:
        """One plain dict per (strategy, outcome): for CSV or JSON (no pandas)."""
        names = [o for o in OUTCOMES if o not in ("n_women", "life_years_micro")] + list(DERIVED)
        rows = []
        for strategy in self.strategies:
            for outcome in names:
                rows.append(
                    {"scenario": self.scenario, "strategy": strategy, "outcome": outcome,
                     "n_replicates": self.n_replicates, **self.summary(strategy, outcome)}
                )  # fmt: skip
        return rows

    def as_dict(self) -> dict:
        """JSON-ready description: run settings, and per strategy the per-1,000 means."""
        return {
            "scenario": self.scenario, "parameters": self.parameters, "seed": self.seed,
            "n_women": self.n_women, "n_replicates": self.n_replicates,
            "chunk_size": self.chunk_size,
            "strategies": {
                s: {o: self.summary(s, o) for o in _REPORTED} for s in self.strategies
            },
        }  # fmt: skip


def chunk_tasks(
    scenario: Scenario, *, n_women: int, seed: int, replicates: int, chunk_size: int,
    parameters: Parameters | None = None,
) -> list[ChunkTask]:  # fmt: skip
    """The chunks of a run, replicate by replicate."""
    for name, value, low in (("n_women", n_women, 1), ("replicates", replicates, 1),
                             ("chunk_size", chunk_size, 1), ("seed", seed, 0)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name}: expected a whole number >= {low}, got {value!r}")
    return [
        ChunkTask(scenario, seed, start, min(start + chunk_size, n_women), r, parameters)
        for r in range(replicates)
        for start in range(0, n_women, chunk_size)
    ]


def run(
    scenario: Scenario, *, n_women: int, seed: int, replicates: int = 1,
    chunk_size: int = 100_000, parameters: Parameters | None = None,
    map_chunks: Callable[[Callable, list[ChunkTask]], Iterable[ChunkTotals]] | None = None,
) -> SimulationResult:  # fmt: skip
    """Simulate ``n_women`` women per replicate under every strategy of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        From :func:`pebs.sim.load_scenario`.
    n_women, seed, replicates, chunk_size : int
        Women per replicate, run seed, number of replicates, women per chunk. Results do not
        depend on ``chunk_size``.
    parameters : Parameters, optional
        Model parameters (default: the packaged file).
    map_chunks : callable, optional
        ``map_chunks(run_task, tasks)`` returns the :class:`ChunkTotals` of every task (in any
        order); default: the built-in serial ``map``. A Dask runner passes e.g.
        ``lambda f, tasks: client.gather(client.map(f, tasks))``.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> from pebs.sim import load_scenario
    >>> result = run(load_scenario("us-benchmark"), n_women=300, seed=3, replicates=2,
    ...              chunk_size=100)
    >>> result.strategies[0], result.values.shape[:2]
    ('no-screening', (2, 4))
    """
    params = resolve_parameters(parameters, scenario.parameters)
    tasks = chunk_tasks(
        scenario, n_women=n_women, seed=seed, replicates=replicates, chunk_size=chunk_size,
        parameters=parameters,
    )  # fmt: skip
    mapper = map if map_chunks is None else map_chunks
    values = np.zeros((replicates, len(scenario.strategies), len(OUTCOMES)), dtype=np.int64)
    for totals in mapper(run_task, tasks):
        values[totals.replicate] += totals.values
    return SimulationResult(
        scenario=scenario.name, parameters=params.label, seed=seed, n_women=n_women,
        chunk_size=chunk_size, strategies=scenario.strategy_names, values=values,
    )  # fmt: skip
