"""``pebs analyse``: the trial's statistical analysis plan run on its database or a snapshot."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings


def analyse_command(
    study: Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the tables, plots and report.")
    ],
    user: Annotated[str, typer.Option("--user", "-u", help="Your account (a statistician).")],
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="A study-lock snapshot file (default: the database)."),
    ] = None,
    data_cut: Annotated[
        str | None,
        typer.Option(
            "--data-cut",
            help="Live database: the data cut, YYYY-MM-DD (default "
            "today, UTC); a snapshot's is its lock time.",
        ),
    ] = None,
) -> None:
    """Run the study's analysis plan: primary endpoint with non-inferiority tests, time to
    event, secondary endpoints; write results.json, CSV tables, plots and report.html.

    Reads a study-lock snapshot (read-only; its SHA-256 is printed and recorded) or the live
    database; the run is recorded in the audit trail.
    """
    from pebs import __version__
    from pebs.services.actor import actor_for
    from pebs.services.analysis import run_analysis
    from pebs.services.errors import InvalidInput
    from pebs.services.trial import open_database

    try:
        cut = None if data_cut is None else date.fromisoformat(data_cut)
    except ValueError:
        raise InvalidInput(f"{data_cut!r} is not a date YYYY-MM-DD", field="--data-cut") from None
    if snapshot is not None and cut is not None:
        raise InvalidInput(
            "a snapshot's data cut is its lock time; give no --data-cut", field="--data-cut"
        )
    database = open_database(load_settings().database_url)
    try:
        run = run_analysis(
            database.sessions,
            actor_for(database.sessions, user),
            study,
            folder=output,
            software_version=__version__,
            snapshot=snapshot,
            today=cut,
        )
    finally:
        database.close()
    primary = run.results["primary"]["intention_to_treat"]
    typer.echo(f"pebs: analysis of {study} written to {output}")
    typer.echo(
        f"  source: {run.source.kind} {run.source.name}"
        + (f" sha256 {run.source.sha256}" if run.source.sha256 else "")
    )
    typer.echo(f"  data cut: {run.results['data_cut']}")
    for arm, counts in primary["arms"].items():
        typer.echo(f"  {arm}: {counts['events']} / {counts['n']} women with the endpoint")
    for scale in ("ratio", "difference"):
        if scale in primary:
            typer.echo(f"  {scale}: {primary[scale]['conclusion']}")
    typer.echo(f"  results.json sha256 {run.results_sha256}")
