"""A ``pebs serve`` process is kept on one CPU: which one, and when nothing changes."""

from __future__ import annotations

import os

import pytest

from pebs.http import worker_cpu
from pebs.http.worker_cpu import PIN_CPU_VARIABLE, chosen_cpu, pin_to_one_cpu


@pytest.mark.parametrize(
    ("allowed", "name", "current", "expected"),
    [
        ([0, 1], "SpawnProcess-1", 1, 0),  # the first worker takes the first CPU
        ([0, 1], "SpawnProcess-2", 0, 1),
        ([0, 1], "SpawnProcess-3", 1, 0),  # a restarted worker takes the next in turn
        ([5, 3, 7], "SpawnProcess-2", 3, 5),  # in the order of the CPU numbers
        ([0, 1, 2, 3], "MainProcess", 2, 2),  # a single server keeps the CPU it runs on
        ([4, 6], "MainProcess", 1, 4),  # not one it may not use
        ([4, 6], "MainProcess", None, 4),
    ],
)
def test_the_cpu_a_server_process_keeps(allowed, name, current, expected) -> None:
    assert chosen_cpu(allowed, name, current) == expected


class _Affinity:
    """Stands in for the process's CPU affinity (the test process itself is never pinned)."""

    def __init__(self, allowed: set[int]) -> None:
        self.allowed = allowed
        self.set_to: set[int] | None = None

    def get(self, pid: int) -> set[int]:
        assert pid == 0
        return set(self.allowed)

    def set(self, pid: int, cpus: set[int]) -> None:
        assert pid == 0
        self.set_to = set(cpus)


@pytest.fixture
def affinity(monkeypatch: pytest.MonkeyPatch) -> _Affinity:
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("CPU affinity is set on Linux only")
    fake = _Affinity({0, 1})
    monkeypatch.setattr(os, "sched_getaffinity", fake.get)
    monkeypatch.setattr(os, "sched_setaffinity", fake.set)
    monkeypatch.setattr(worker_cpu, "_current_cpu", lambda: 1)
    monkeypatch.delenv(PIN_CPU_VARIABLE, raising=False)
    return fake


def test_a_server_process_is_kept_on_the_cpu_it_runs_on(affinity: _Affinity) -> None:
    assert pin_to_one_cpu() == 1
    assert affinity.set_to == {1}


def test_pinning_can_be_turned_off(affinity: _Affinity, monkeypatch) -> None:
    monkeypatch.setenv(PIN_CPU_VARIABLE, "0")
    assert pin_to_one_cpu() is None
    assert affinity.set_to is None


def test_a_process_on_one_cpu_already_is_left_alone(affinity: _Affinity) -> None:
    affinity.allowed = {3}
    assert pin_to_one_cpu() is None
    assert affinity.set_to is None


def test_the_cpu_this_process_runs_on_is_one_it_may_use() -> None:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("Linux only")
    assert worker_cpu._current_cpu() in os.sched_getaffinity(0)
