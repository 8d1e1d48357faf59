"""Microsimulation of breast cancer natural history and screening.

Vectorised over women (struct of arrays), chunked, with counter-based random numbers keyed by
(seed, replicate, stream, woman, draw): results do not depend on the chunking, and strategies
share the same women (common random numbers). See ``docs/simulation.md``.

- :func:`load_scenario`, :func:`list_scenarios`: scenario files (population, strategies, trial);
- :func:`simulate_chunk` (pure, picklable) -> :class:`ChunkTotals` (additive);
  :func:`chunk_records`: per-woman arrays of a chunk;
- :func:`run` -> :class:`SimulationResult` (per-1,000 outcomes with Monte Carlo intervals);
- :func:`trial_summary`: trial in silico (stage II+ proxy per arm, non-inferiority, power);
- :func:`load_parameters`: the versioned parameter file with its sources.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_HOMES = {
    "chunk": ("ChunkTask", "ChunkTotals", "chunk_records", "run_task", "simulate_chunk"),
    "outcomes": ("OUTCOMES",),
    "parameters": ("ParameterError", "Parameters", "default_parameters", "load_parameters"),
    "result": ("DERIVED", "SimulationResult", "chunk_tasks", "run"),
    "scenario": ("NO_SCREENING", "Scenario", "ScenarioError", "Strategy", "Trial",
                 "list_scenarios", "load_scenario", "parse_scenario"),
    "trial": ("TrialSummary", "trial_summary"),
}  # fmt: skip
"""Module of each public name: loaded on first use, so that importing one submodule (for
example :mod:`pebs.sim.genotypes`) or reading a scenario does not load the whole simulator."""
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from pebs.sim.chunk import ChunkTask, ChunkTotals, chunk_records, run_task, simulate_chunk
    from pebs.sim.outcomes import OUTCOMES
    from pebs.sim.parameters import (
        ParameterError,
        Parameters,
        default_parameters,
        load_parameters,
    )
    from pebs.sim.result import DERIVED, SimulationResult, chunk_tasks, run
    from pebs.sim.scenario import (
        NO_SCREENING,
        Scenario,
        ScenarioError,
        Strategy,
        Trial,
        list_scenarios,
        load_scenario,
        parse_scenario,
    )
    from pebs.sim.trial import TrialSummary, trial_summary


def __getattr__(name: str):
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "DERIVED",
    "NO_SCREENING",
    "OUTCOMES",
    "ChunkTask",
    "ChunkTotals",
    "ParameterError",
    "Parameters",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "Strategy",
    "Trial",
    "TrialSummary",
    "chunk_records",
    "chunk_tasks",
    "default_parameters",
    "list_scenarios",
    "load_parameters",
    "load_scenario",
    "parse_scenario",
    "run",
    "run_task",
    "simulate_chunk",
    "trial_summary",
]
