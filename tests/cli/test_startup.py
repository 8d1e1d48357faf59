"""The CLI starts fast: a command's module is imported only when that command runs, and the
error table imports nothing.

The start-up figures themselves are in benchmarks/startup_bench.py (timings depend on the
machine); here, what must not be imported.
"""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest
import typer
from typer._click import Context

from pebs import __version__
from pebs.cli import COMMANDS, app, main
from pebs.cli._errors import EXIT_CODES, exit_code_for
from pebs.cli.risk import COMMANDS as RISK_COMMANDS

HEAVY = ("numpy", "pandas", "scipy", "sqlalchemy", "alembic", "psycopg", "uvicorn", "dask",
         "pyarrow", "matplotlib", "fastapi", "pydantic", "pydantic_settings",
         "cryptography")  # fmt: skip
"""Libraries that a version or help screen has no use for (pydantic: Typer converts an option's
value through it, which a help screen needs for none)."""

LOADED = (
    "import sys\n"
    "from pebs.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(*sorted(sys.modules), sep='\\n', file=sys.stderr)\n"
    "sys.exit(code)\n"
)
"""Runs the CLI with the arguments, then lists the loaded modules on stderr."""


def _run_cli(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, env=env, timeout=120
    )
    return done, set(done.stderr.split())


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_version_imports_no_command_and_no_heavy_library():
    done, modules = _run_cli("--version")
    assert (done.returncode, done.stdout) == (0, f"pebs {__version__}\n")
    assert _heavy(modules) == []
    assert sorted(m for m in modules if m.startswith("pebs.")) == [
        "pebs.cli", "pebs.cli._errors", "pebs.cli._lazy_group",
    ]  # fmt: skip


def test_help_lists_every_command_without_importing_them():
    done, modules = _run_cli("--help")
    assert done.returncode == 0
    for name in ("plan", "check", "simulate", "validate", "serve", "risk", "policy", "db",
                 "study", "audit", "demo", "export", "user"):  # fmt: skip
        assert f"│ {name} " in done.stdout
    assert _heavy(modules) == []
    assert not [m for m in modules if m.startswith("pebs.cli.") and m not in (
        "pebs.cli._errors", "pebs.cli._lazy_group")]  # fmt: skip


def test_a_command_imports_its_own_module_only():
    done, modules = _run_cli("risk", "gail", "--help")
    assert done.returncode == 0
    assert "Usage: pebs risk gail [OPTIONS] {input_csv}" in done.stdout
    assert _heavy(modules) == []
    assert "pebs.cli.risk" in modules
    assert not modules & {"pebs.cli.assess", "pebs.cli.prs", "pebs.cli.db", "pebs.cli.simulate"}


def _first_paragraph(text: str) -> str:
    """What a group's help lists for a sub-command: the first paragraph of its help."""
    return inspect.cleandoc(text).split("\n\n")[0]


def _own_help(target: str) -> str:
    """The help a command gives itself: its Typer app's help, or its function's docstring."""
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if isinstance(command, typer.Typer):
        return typer.main.get_group(command).help or ""
    return inspect.getdoc(command) or ""


@pytest.mark.parametrize(
    ("group", "entry"),
    [*(("pebs", e) for e in COMMANDS), *(("pebs risk", e) for e in RISK_COMMANDS)],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_each_lazy_summary_is_the_commands_own_help(group, entry):
    assert entry.help == _first_paragraph(_own_help(entry.target))


@pytest.mark.parametrize("path", [(), ("risk",)], ids=lambda p: " ".join(("pebs", *p)))
def test_help_from_the_summaries_is_the_help_from_the_commands(path, capsys):
    def help_text(load_everything: bool) -> str:
        group = typer.main.get_command(app)  # a new group: nothing imported through it yet
        for name in path:
            group = group.commands[name]
        if load_everything:
            dict(group.commands.items())
        group.get_help(Context(group, info_name=" ".join(("pebs", *path))))
        return capsys.readouterr().out

    assert help_text(load_everything=False) == help_text(load_everything=True)


def test_an_unknown_command_still_gets_a_suggestion(capsys):
    assert main(["polcy"]) == 2
    assert "No such command 'polcy'. Did you mean 'policy'?" in capsys.readouterr().err


# The error table: families named by their defining module.


@pytest.mark.parametrize(("family", "code"), EXIT_CODES, ids=[f for f, _ in EXIT_CODES])
def test_each_family_is_an_exception_defined_where_the_table_says(family, code):
    module_name, _, class_name = family.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(cls, Exception)
    assert cls.__module__ == module_name  # an instance exists only once this module has run
    assert exit_code_for(cls.__new__(cls)) is not None


def test_exit_codes_follow_sysexits_and_the_most_specific_family_wins():
    from pebs.screening.planner import PlanError
    from pebs.services.errors import NotFound, ServiceError, ToolMissing

    assert exit_code_for(PlanError("x")) == 65  # EX_DATAERR
    assert exit_code_for(ToolMissing("pg_dump")) == 69  # EX_UNAVAILABLE, before ServiceError's 65
    assert exit_code_for(NotFound("x")) == 66  # EX_NOINPUT
    assert exit_code_for(ServiceError("x")) == 65
    assert exit_code_for(RuntimeError("a bug")) is None


def test_looking_up_an_exit_code_imports_nothing():
    code = (
        "import sys\n"
        "from pebs.cli._errors import exit_code_for\n"
        "assert exit_code_for(ValueError('x')) is None\n"
        "print(*sorted(sys.modules), sep='\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(m for m in done.stdout.split() if m.startswith("pebs")) == [
        "pebs", "pebs.cli", "pebs.cli._errors", "pebs.cli._lazy_group",
    ]  # fmt: skip
