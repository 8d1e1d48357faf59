"""A TOML file that people write (a policy, a study, a simulation scenario) holding a number too
long for Python to read is refused like any invalid TOML: one line naming the file, the line and
the number's length, never a bare ``ValueError`` (a traceback on the command line)."""

from __future__ import annotations

from importlib.resources import files

import pytest

from pebs.cli import main
from pebs.screening.policy import PolicyError, parse_policy
from pebs.sim.scenario import ScenarioError, parse_scenario
from pebs.trial import StudyError, parse_study

HUGE = "9" * 4_000 + "_" + "9" * 1_000  # 5,000 digits (TOML allows underscores between digits)
MESSAGE = "not valid TOML (a number of 5,000 digits; at most 4,300 can be read)"

LOADERS = [
    (parse_policy, PolicyError, ("pebs.screening", "policies", "fr.toml")),
    (parse_study, StudyError, ("pebs.trial", "studies", "mypebs-demo.toml")),
    (parse_scenario, ScenarioError, ("pebs.sim", "scenarios", "mypebs-trial.toml")),
]


def _with_huge_number(text: str) -> tuple[str, int]:
    """``text`` with a last key holding :data:`HUGE`, and that key's line number."""
    text = text.rstrip("\n") + "\n"
    return f"{text}huge = {HUGE}\n", text.count("\n") + 1


def _shipped(package: str, folder: str, name: str) -> str:
    return (files(package) / folder / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("parse", "error", "shipped"), LOADERS, ids=lambda v: getattr(v, "__name__", None)
)
def test_a_number_too_long_to_read_is_invalid_toml_naming_its_line(parse, error, shipped):
    text, line = _with_huge_number(_shipped(*shipped))
    name = shipped[-1]
    with pytest.raises(error) as refused:
        parse(text, name)
    assert str(refused.value) == f"{name}:{line}: {MESSAGE}"


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    text, line = _with_huge_number(_shipped("pebs.sim", "scenarios", "mypebs-trial.toml"))
    path = tmp_path / "mypebs-trial.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["simulate", str(path), "-o", str(tmp_path / "out")]) == 65
    err = capsys.readouterr().err
    assert err == f"pebs: error: {path}:{line}: {MESSAGE}\n"
