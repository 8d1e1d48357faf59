"""``pebs check``: installation qualification, as a table or as JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pebs.cli.db import load_settings
from pebs.config import SettingsError

EXIT_NOT_QUALIFIED = 1
"""A required check did not pass (the checks ran; their answer is no)."""


def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Installation qualification: versions, settings, database reachable and migrated, audit
    chain intact, tables matching the audit trail, allocation lists, identity keys opening the
    stored identities, file permissions (exit 1 if a required check fails)."""
    from pebs.cli.demo import identity_keys  # imported when used
    from pebs.services.operations import run_checks

    try:
        settings = load_settings()
    except SettingsError as error:
        report = run_checks(
            database_url=None, environment=None, keys=None, settings_problem=str(error)
        )
    else:
        report = run_checks(
            database_url=settings.database_url, environment=settings.environment,
            keys=identity_keys(settings),
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_table(report)
    if not report.ok:
        raise typer.Exit(EXIT_NOT_QUALIFIED)


def _print_table(report) -> None:
    width = max(len(check.name) for check in report.checks)
    typer.echo(f"pebs check: installation qualification at {report.at}")
    for check in report.checks:
        required = " (optional)" if not check.required and check.status in ("warn", "skip") else ""
        typer.echo(f"  {check.status.upper():<4}  {check.name:<{width}}  {check.detail}{required}")
    n_required = sum(check.required for check in report.checks)
    if report.ok:
        typer.echo(f"pebs: qualified: all {n_required} required checks passed")
    else:
        typer.echo(
            f"pebs: NOT qualified: {len(report.failed)} of {n_required} required checks did not "
            f"pass: {', '.join(report.failed)}"
        )
