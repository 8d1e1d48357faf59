"""One chunk of women under every strategy of a scenario: the unit of work of a run.

:func:`simulate_chunk` is pure and picklable (module-level, arguments are frozen values), so a
runner can map it over chunks with any executor (Dask, multiprocessing) and add the returned
:class:`ChunkTotals`. Every random number is keyed by the woman's global index, so the sum over
chunks does not depend on how the women are split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pebs.sim.cohort import draw_cohort, scenario_onset_model
from pebs.sim.outcomes import OUTCOMES, classify
from pebs.sim.parameters import Parameters, resolve_parameters
from pebs.sim.scenario import Scenario
from pebs.sim.screening_loop import screen, screen_history


@dataclass(frozen=True)
class ChunkTotals:
    """Additive outcome counts: ``values[s, k]`` is outcome ``OUTCOMES[k]`` of strategy ``s``."""

    strategies: tuple[str, ...]
    values: np.ndarray  # (n_strategies, n_outcomes) int64
    replicate: int = 0

    def __add__(self, other: ChunkTotals) -> ChunkTotals:
        if not isinstance(other, ChunkTotals):
            return NotImplemented
        if other.strategies != self.strategies or other.replicate != self.replicate:
            raise ValueError("ChunkTotals: cannot add totals of other strategies or replicates")
        return ChunkTotals(self.strategies, self.values + other.values, self.replicate)

    def merge(self, other: ChunkTotals) -> ChunkTotals:
        """Same as ``self + other``."""
        return self + other

    def get(self, strategy: str, outcome: str) -> int:
        """One count."""
        return int(self.values[self.strategies.index(strategy), OUTCOMES.index(outcome)])


@dataclass(frozen=True)
class ChunkTask:
    """Arguments of one chunk (picklable), for :func:`run_task` and custom executors."""

    scenario: Scenario
    seed: int
    start: int
    stop: int
    replicate: int = 0
    parameters: Parameters | None = None


def _eligible(scenario: Scenario, cohort, strategy_index: int) -> np.ndarray:
    trial = scenario.trial
    name = scenario.strategies[strategy_index].name
    if trial is None or name not in trial.arms:
        return np.ones(len(cohort), bool)
    return cohort.arm == trial.arms.index(name)


def _simulate(scenario, seed, start, stop, replicate, parameters, keep_records):
    if not (isinstance(start, int | np.integer) and isinstance(stop, int | np.integer)):
        raise ValueError(f"start, stop: whole numbers expected, got {start!r}, {stop!r}")
    if not 0 <= start <= stop:
        raise ValueError(f"start, stop: expected 0 <= start <= stop, got {start}, {stop}")
    params = resolve_parameters(parameters, scenario.parameters)
    cohort = draw_cohort(scenario, params, seed, int(start), int(stop), replicate)
    model = scenario_onset_model(scenario, params)
    values = np.zeros((len(scenario.strategies), len(OUTCOMES)), dtype=np.int64)
    records = {}
    prior = None
    excluded = np.zeros(len(cohort), bool)
    if scenario.history is not None:
        prior = screen_history(cohort, scenario, params, model, seed, replicate)
        excluded = prior.found
    for s, strategy in enumerate(scenario.strategies):
        arm = _eligible(scenario, cohort, s)
        eligible = arm & ~excluded
        screened = screen(cohort, strategy, scenario, params, model, seed, replicate, eligible,
                          prior)  # fmt: skip
        counts, per_woman = classify(cohort, screened, params, eligible)
        counts["excluded_history"] = int((arm & excluded).sum())
        values[s] = [counts[name] for name in OUTCOMES]
        if keep_records:
            records.update({f"{strategy.name}.{k}": v for k, v in per_woman.items()})
            records[f"{strategy.name}.eligible"] = eligible
    if keep_records and prior is not None:
        records["history.found"] = prior.found
        records["history.last_screen"] = prior.last_screen
        records["history.last_invite"] = prior.last_invite
    totals = ChunkTotals(scenario.strategy_names, values, replicate)
    if not keep_records:
        return totals, None
    base = {
        name: getattr(cohort, name)
        for name in ("women", "country", "entry", "exit", "rr", "prs_z", "density_entry",
                     "death_other", "clinical", "onset", "sojourn", "np_onset", "np_end",
                     "np_symptomatic", "dcis_onset",
                     "clinical_size", "arm")
    }  # fmt: skip
    return totals, base | records


def simulate_chunk(
    scenario: Scenario, seed: int, start: int, stop: int, replicate: int = 0,
    parameters: Parameters | None = None,
) -> ChunkTotals:  # fmt: skip
    """Simulate women ``start .. stop - 1`` (global indices) under every strategy.

    Parameters
    ----------
    scenario : Scenario
        From :func:`pebs.sim.load_scenario`.
    seed : int
        Run seed (>= 0); with ``replicate`` it determines every draw.
    start, stop : int
        Global index range of the women of this chunk.
    replicate : int, optional
        Replicate number: replicates are independent sets of women.
    parameters : Parameters, optional
        Model parameters (default: the packaged file).

    Returns
    -------
    ChunkTotals
        Additive counts per strategy; add the chunks of a replicate with ``+``.

    Examples
    --------
    >>> from pebs.sim import load_scenario
    >>> scenario = load_scenario("us-benchmark")
    >>> whole = simulate_chunk(scenario, 1, 0, 400)
    >>> split = simulate_chunk(scenario, 1, 0, 150) + simulate_chunk(scenario, 1, 150, 400)
    >>> bool((whole.values == split.values).all())
    True
    """
    return _simulate(scenario, seed, start, stop, replicate, parameters, False)[0]


def chunk_records(
    scenario: Scenario, seed: int, start: int, stop: int, replicate: int = 0,
    parameters: Parameters | None = None,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Per-woman records of a chunk: cohort columns, then ``"<strategy>.<field>"`` columns.

    The same women and draws as :func:`simulate_chunk` (for Parquet output and checks).
    """
    return _simulate(scenario, seed, start, stop, replicate, parameters, True)[1]


def chunk_totals_and_records(
    scenario: Scenario, seed: int, start: int, stop: int, replicate: int = 0,
    parameters: Parameters | None = None,
) -> tuple[ChunkTotals, dict[str, np.ndarray]]:  # fmt: skip
    """:func:`simulate_chunk` and :func:`chunk_records` of one simulation of the chunk."""
    return _simulate(scenario, seed, start, stop, replicate, parameters, True)


def run_task(task: ChunkTask) -> ChunkTotals:
    """:func:`simulate_chunk` of a :class:`ChunkTask` (one argument, for executor maps)."""
    return simulate_chunk(
        task.scenario, task.seed, task.start, task.stop, task.replicate, task.parameters
    )
