"""``pebs participants import``: enrol the women of a file, each as far as her record goes.

Every step is the ordinary use case (its checks, the account's role and sites, its audit
event); the steps are committed in groups, so a whole trial moves in minutes
(``docs/trial/import.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(help="Participants: import an enrolment file.", no_args_is_help=True)

OUTCOME_COLUMNS = ("line", "study_id", "reached", "status", "arm", "risk_level",
                   "refused_step", "refused_field", "message")  # fmt: skip


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="The enrolment file (CSV, UTF-8).")],
    study: Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")],
    user: Annotated[
        str, typer.Option("--user", "-u", help="Your account: its role and sites apply (audited).")
    ],
    outcomes: Annotated[
        Path | None,
        typer.Option(
            "--outcomes", "-o", help="Write one line per row: how far she got, or why not."
        ),
    ] = None,
) -> None:
    """Register the women of FILE and take each through eligibility, consent, allocation and
    her risk assessment and plan, as far as her row goes; print counts per step and refusal.

    Nothing of a refused step is stored; the outcome file names the row, the step, the field
    and the reason.
    """
    from pebs.cli._console import stderr_console
    from pebs.cli.demo import identity_keys
    from pebs.io.atomic import atomic_output
    from pebs.io.csv_writer import write_csv_rows
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database
    from pebs.services.trial.enrolment_file import read_enrolments
    from pebs.services.trial.enrolment_import import import_enrolments

    settings = load_settings()
    database = open_database(settings.database_url)
    console = stderr_console()
    try:
        actor = actor_for(database.sessions, user)
        keys = identity_keys(settings)
        rows = read_enrolments(file)
        if outcomes is None:
            summary = import_enrolments(database.sessions, actor, keys, study, rows)
        else:
            with atomic_output(outcomes) as stream:
                write_csv_rows(stream, [], header=OUTCOME_COLUMNS)

                def write(outcome) -> None:
                    write_csv_rows(stream, [[getattr(outcome, c) for c in OUTCOME_COLUMNS]])

                summary = import_enrolments(
                    database.sessions, actor, keys, study, rows, on_outcome=write
                )
    finally:
        database.close()
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    console.print(
        f"pebs: {summary.rows:,} rows in {summary.seconds:,.1f} s ({rate:,.0f} women/s): "
        f"{sum(summary.steps.values()):,} steps in {summary.commits:,} commits"
    )
    for step, count in summary.reached.most_common():
        console.print(f"  {count:>10,}  reached {step}")
    for refusal, count in summary.refused.most_common():
        console.print(f"  {count:>10,}  refused at {refusal}")
    if summary.stopped:
        console.print(f"pebs: stopped: {summary.stopped}")
        raise typer.Exit(1)
