"""``pebs import``: a whole trial migrated into pebs, from CSV files or a CDISC ODM file.

Every woman goes through the ordinary use cases (their checks, the account's role and sites,
their audit events), committed in groups; an allocation the source system made is kept as it was
made; women stored before are recognised and skipped (``docs/trial/import.md``).
``pebs participants import`` is this command with ``--format csv``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

OUTCOME_COLUMNS = ("file", "line", "study_id", "reached", "status", "arm", "risk_level",
                   "skipped", "refused_step", "refused_field", "message")  # fmt: skip
"""Columns of the outcome file (``-o``): one line per row of the files."""


class ImportFormat(StrEnum):
    csv = "csv"
    odm = "odm"


Study = Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")]
User = Annotated[
    str, typer.Option("--user", "-u", help="Your account: its role and sites apply (audited).")
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Check every row through every step, then roll back: store nothing."
    ),
]
Outcomes = Annotated[
    Path | None,
    typer.Option("--outcomes", "-o", help="Write one line per row: how far she got, or why not."),
]


def import_command(
    file: Annotated[
        Path, typer.Argument(help="The women (CSV, UTF-8) or the ODM file (CDISC ODM 1.3.2).")
    ],
    study: Study,
    user: User,
    file_format: Annotated[
        ImportFormat, typer.Option("--format", help="csv (an enrolment file) or odm.")
    ] = ImportFormat.csv,
    visits: Annotated[
        Path | None,
        typer.Option("--visits", help="CSV: her visits, one row each, by source_id."),
    ] = None,
    diagnoses: Annotated[
        Path | None,
        typer.Option("--diagnoses", help="CSV: her breast cancer diagnoses, by source_id."),
    ] = None,
    identities: Annotated[
        Path | None,
        typer.Option(
            "--identities",
            help="ODM: the women's identities (an enrolment file whose source_id is the "
            "ODM SubjectKey).",
        ),
    ] = None,
    dry_run: DryRun = False,
    outcomes: Outcomes = None,
) -> None:
    """Import a whole trial: register the women and take each through eligibility, consent,
    allocation (kept as the source system made it, or the next concealed slot), risk and plan,
    then record her visits, diagnoses and death; print counts per step and refusal.

    Women stored before (by source_id, else national ID) are skipped and counted; nothing of a
    refused step is stored; the outcome file names the file, row, step, field and reason.
    """
    run_import(file, study, user, file_format, visits=visits, diagnoses=diagnoses,
               identities=identities, dry_run=dry_run, outcomes=outcomes)  # fmt: skip


def run_import(
    file: Path, study: str, user: str, file_format: ImportFormat, *,
    visits: Path | None = None, diagnoses: Path | None = None, identities: Path | None = None,
    dry_run: bool = False, outcomes: Path | None = None,
) -> None:  # fmt: skip
    """The import of ``pebs import`` and ``pebs participants import``."""
    from pebs.cli._console import stderr_console
    from pebs.cli.demo import identity_keys
    from pebs.io.atomic import atomic_output
    from pebs.io.csv_writer import write_csv_rows
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database
    from pebs.services.trial.trial_import import import_files

    settings = load_settings()
    database = open_database(settings.database_url)
    console = stderr_console()
    try:
        actor = actor_for(database.sessions, user)
        keys = identity_keys(settings)

        def run(on_outcome=None):  # type: ignore[no-untyped-def]
            return import_files(
                database.sessions, actor, keys, study, file, file_format=file_format.value,
                visits=visits, diagnoses=diagnoses, identities=identities, dry_run=dry_run,
                on_outcome=on_outcome,
            )  # fmt: skip

        if outcomes is None:
            summary = run()
        else:
            with atomic_output(outcomes) as stream:
                write_csv_rows(stream, [], header=OUTCOME_COLUMNS)

                def write(outcome) -> None:  # type: ignore[no-untyped-def]
                    write_csv_rows(stream, [[getattr(outcome, c) for c in OUTCOME_COLUMNS]])

                summary = run(write)
    finally:
        database.close()
    _print_summary(console, summary)
    if summary.stopped:
        console.print(f"pebs: stopped: {summary.stopped}")
        raise typer.Exit(1)


def _print_summary(console, summary) -> None:  # type: ignore[no-untyped-def]
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    dry = "dry run, nothing stored: " if summary.dry_run else ""
    console.print(
        f"pebs: {dry}{summary.rows:,} rows in {summary.seconds:,.1f} s ({rate:,.0f} rows/s): "
        f"{sum(summary.steps.values()):,} steps in {summary.commits:,} commits"
    )
    for step, count in summary.reached.most_common():
        console.print(f"  {count:>10,}  reached {step}")
    if summary.skipped:
        console.print(f"  {summary.skipped:>10,}  already stored, skipped")
    done = "checked, rolled back" if summary.dry_run else "stored"
    for step, count in summary.recorded.most_common():
        console.print(f"  {count:>10,}  {step} records {done}")
    for refusal, count in summary.refused.most_common():
        console.print(f"  {count:>10,}  refused at {refusal}")
