"""``pebs report missing-forms``: the expected forms missing per site and time point, and the
list of them as CSV (``docs/trial/queries.md``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(help="Reports: the missing forms of a study.", no_args_is_help=True)


@app.command("missing-forms")
def missing_forms_command(
    user: Annotated[
        str, typer.Option("--user", "-u", help="Your account: its sites apply (audited).")
    ],
    study: Annotated[str, typer.Option("--study", help="Study name.")] = "mypebs-demo",
    site: Annotated[str | None, typer.Option("--site", help="Only this site (IT-TO).")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The report's day, YYYY-MM-DD (default: today).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write every missing form as CSV.")
    ] = None,
) -> None:
    """Count the expected forms missing per site and time point; with --output, list them all
    as CSV (audited)."""
    from pebs.io.atomic import write_bytes_atomically
    from pebs.services.actor import actor_for
    from pebs.services.errors import InvalidInput
    from pebs.services.trial import open_database
    from pebs.services.trial.missing_forms import missing_forms_csv, missing_forms_report

    try:
        day = None if on is None else date.fromisoformat(on)
    except ValueError:
        raise InvalidInput(f"{on!r} is not a date YYYY-MM-DD", field="--on") from None
    database = open_database(load_settings().database_url)
    try:
        actor = actor_for(database.sessions, user)
        report = missing_forms_report(database.sessions, actor, study, on=day, site=site,
                                      limit=1)  # fmt: skip
        if output is not None:
            write_bytes_atomically(
                output, missing_forms_csv(database.sessions, actor, study, on=day,
                                          site=site).chunks,
            )  # fmt: skip
    finally:
        database.close()
    for count in report.counts:
        typer.echo(f"{count.site:<8} {count.time_point:<14} {count.form:<14} {count.n:>8,}")
    typer.echo(f"pebs: {report.total:,} missing forms among {report.n_women:,} participants"
               + (f"; listed in {output} (audited)" if output is not None else ""))  # fmt: skip
