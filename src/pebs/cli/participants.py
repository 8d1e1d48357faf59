"""``pebs participants import``: enrol the women of a file, each as far as her record goes
(``pebs import --format csv``, :mod:`pebs.cli.imports`).

Every step is the ordinary use case (its checks, the account's role and sites, its audit
event); the steps are committed in groups, so a whole trial moves in minutes
(``docs/trial/import.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pebs.cli import canrisk
from pebs.cli.imports import DryRun, ImportFormat, Outcomes, Study, User, run_import

app = typer.Typer(
    help="Participants: import an enrolment file; CanRisk pedigree files in and out.",
    no_args_is_help=True,
)
app.command("canrisk-import")(canrisk.import_command)
app.command("canrisk-export")(canrisk.export_command)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="The enrolment file (CSV, UTF-8).")],
    study: Study,
    user: User,
    dry_run: DryRun = False,
    outcomes: Outcomes = None,
) -> None:
    """Register the women of FILE and take each through eligibility, consent, allocation and
    her risk assessment and plan, as far as her row goes; print counts per step and refusal.

    The same import as ``pebs import --format csv`` (without visits and diagnoses files).
    Nothing of a refused step is stored; the outcome file names the row, the step, the field
    and the reason.
    """
    run_import(file, study, user, ImportFormat.csv, dry_run=dry_run, outcomes=outcomes)
