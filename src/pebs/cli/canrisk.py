"""``pebs participants canrisk-import`` and ``canrisk-export``: her CanRisk pedigree file in and
out (``docs/trial/canrisk.md``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pebs.cli.db import load_settings

if TYPE_CHECKING:
    from pebs.services.trial.canrisk import CanRiskImported

_USER = typer.Option("--user", "-u", help="Your account: its role and sites apply (audited).")
_PARTICIPANT = typer.Option("--participant", "-p", help="Her study ID (IT-TO-000001).")


def import_command(
    file: Annotated[Path, typer.Argument(help="Her CanRisk file (version 2 to 4, UTF-8).")],
    participant: Annotated[str, _PARTICIPANT],
    user: Annotated[str, _USER],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, store nothing.")
    ] = False,
    answered_on: Annotated[
        str | None,
        typer.Option("--answered-on", help="Day the answers were given, YYYY-MM-DD (today)."),
    ] = None,
) -> None:
    """Record the risk questionnaire answers her CanRisk file carries (age at menarche, at
    first live birth, first-degree relatives with breast cancer); print what was taken, kept
    and ignored.

    Her other answers stay those of her latest questionnaire; a density or polygenic score in
    the file is not imported (the trial measures them). A bad file is refused line by line.
    """
    from pebs.cli._console import stderr_console
    from pebs.cli.demo import identity_keys
    from pebs.io.imports.canrisk import canrisk_bytes
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database
    from pebs.services.trial.canrisk import import_canrisk

    day = _day(answered_on)
    data = canrisk_bytes(file)
    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        actor = actor_for(database.sessions, user)
        report = import_canrisk(database.sessions, actor, identity_keys(settings), participant,
                                data, dry_run=dry_run, answered_on=day)  # fmt: skip
    finally:
        database.close()
    console = stderr_console()
    for line in describe(report):
        console.print(line)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date YYYY-MM-DD",
                                 param_hint="--answered-on") from None  # fmt: skip


def describe(report: CanRiskImported) -> list[str]:
    """The report, one fact a line.

    >>> from pebs.services.trial.canrisk import CanRiskImported, Relative
    >>> report = CanRiskImported("IT-TO-000001", True, "ab" * 32, "4", 5,
    ...     {"age_at_menarche": 12, "n_relatives": 1}, ("age_at_menarche", "n_relatives"),
    ...     {"density": "c"}, (Relative("mother", None),), True, 1, ("BMI",), {"BRCA1": 2},
    ...     None, None, ())
    >>> print("\\n".join(describe(report)))
    pebs: IT-TO-000001: CanRisk 4 file, 5 family members: checked, nothing stored (dry run)
      from the file: age_at_menarche=12, n_relatives=1
      first-degree relatives with breast cancer: mother (age not known)
      other relatives with breast cancer, not counted: 1
      not imported (measured in the trial): density=c
      not used: BMI; columns BRCA1 (2)
    """
    head = f"pebs: {report.study_id}: CanRisk {report.version} file, {report.n_individuals} "
    done = f"risk questionnaire {report.questionnaire_id} recorded"
    head += "family members: " + ("checked, nothing stored (dry run)" if report.dry_run else done)
    lines = [head, "  from the file: " + ", ".join(
        f"{name}={report.answers[name]}" for name in report.from_file)]  # fmt: skip
    kept = [f"{n}={v}" for n, v in report.answers.items() if n not in report.from_file]
    if kept:
        lines.append("  kept from her latest questionnaire: " + ", ".join(kept))
    relatives = ", ".join(
        f"{r.relation} ({'age not known' if r.age_at_diagnosis is None else r.age_at_diagnosis})"
        for r in report.relatives
    )  # fmt: skip
    lines.append("  first-degree relatives with breast cancer: " + (relatives or "none"))
    if not report.family_history:
        lines.append("  her parents are not in the file: her family history was not taken")
    if report.n_other_affected:
        lines.append(
            f"  other relatives with breast cancer, not counted: {report.n_other_affected}"
        )
    if report.not_imported:
        lines.append("  not imported (measured in the trial): " + ", ".join(
            f"{n}={v}" for n, v in report.not_imported.items()))  # fmt: skip
    ignored = list(report.ignored_header)
    if report.ignored_columns:
        columns = report.ignored_columns.items()
        ignored.append("columns " + ", ".join(f"{c} ({n})" for c, n in columns))
    if ignored:
        lines.append("  not used: " + "; ".join(ignored))
    if report.risk_level is not None:
        lines.append(f"  risk level: {report.risk_level}")
    elif report.missing:
        lines.append("  her risk waits for: " + ", ".join(report.missing))
    return lines


def export_command(
    participant: Annotated[str, _PARTICIPANT],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The file to write (her CanRisk v4 file).")
    ],
    user: Annotated[str, _USER],
) -> None:
    """Write her CanRisk v4 file for a clinician to open in CanRisk: her study ID, age and
    year of birth, known risk factors and first-degree relatives as placeholders (audited)."""
    from pebs.cli._console import stderr_console
    from pebs.cli.demo import identity_keys
    from pebs.io.atomic import atomic_output
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database
    from pebs.services.trial.canrisk import export_canrisk

    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        actor = actor_for(database.sessions, user)
        export = export_canrisk(database.sessions, actor, identity_keys(settings), participant)
    finally:
        database.close()
    with atomic_output(output) as stream:
        stream.write(export.text)
    stderr_console().print(f"pebs: {export.study_id}: CanRisk file written to {output}")
