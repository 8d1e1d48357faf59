"""``pebs.sim`` loads its modules on first use: one submodule does not bring in the simulator."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pebs.sim


def _loaded_after(statement: str) -> set[str]:
    """Modules of interest loaded by ``statement`` in a fresh interpreter."""
    probe = (
        f"import sys\n{statement}\n"
        "print(' '.join(m for m in ('scipy', 'pebs.sim.cohort', 'pebs.sim.chunk') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return set(done.stdout.split())


def test_one_submodule_does_not_load_the_simulator():
    assert _loaded_after("import pebs.sim.genotypes") == set()


def test_a_public_name_loads_its_module():
    # the probe can tell: asking for the simulator does load it
    assert _loaded_after("from pebs.sim import simulate_chunk") == {
        "scipy", "pebs.sim.cohort", "pebs.sim.chunk",
    }  # fmt: skip


def test_every_public_name_resolves_to_its_module_object():
    from pebs.sim import chunk, result, scenario, trial

    assert pebs.sim.run is result.run
    assert pebs.sim.simulate_chunk is chunk.simulate_chunk
    assert pebs.sim.load_scenario is scenario.load_scenario
    assert pebs.sim.trial_summary is trial.trial_summary
    for name in pebs.sim.__all__:
        assert getattr(pebs.sim, name) is not None, name
    assert set(pebs.sim.__all__) <= set(dir(pebs.sim))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="simulate_everything"):
        pebs.sim.simulate_everything  # noqa: B018
