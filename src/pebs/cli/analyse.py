"""``pebs analyse``: the trial's statistical analysis plan run on its database or a snapshot;
``pebs dsmb``: the data monitoring committee's open and closed reports."""

from __future__ import annotations

import enum
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

StudyOption = Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")]
OutputOption = Annotated[
    Path, typer.Option("--output", "-o", help="Folder for the tables, plots and report.")
]
SnapshotOption = Annotated[
    Path | None,
    typer.Option("--snapshot", help="A study-lock snapshot file (default: the database)."),
]
DataCutOption = Annotated[
    str | None,
    typer.Option(
        "--data-cut",
        help="Live database: the data cut, YYYY-MM-DD (default today, UTC); a snapshot's is "
        "its lock time.",
    ),
]


def _data_cut(text: str | None, snapshot: Path | None) -> date | None:
    from pebs.services.errors import InvalidInput

    try:
        cut = None if text is None else date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date YYYY-MM-DD", field="--data-cut") from None
    if snapshot is not None and cut is not None:
        raise InvalidInput(
            "a snapshot's data cut is its lock time; give no --data-cut", field="--data-cut"
        )
    return cut


def analyse_command(
    study: StudyOption,
    output: OutputOption,
    user: Annotated[str, typer.Option("--user", "-u", help="Your account (a statistician).")],
    snapshot: SnapshotOption = None,
    data_cut: DataCutOption = None,
) -> None:
    """Run the study's analysis plan: primary endpoint with non-inferiority tests, time to
    event, secondary endpoints; write results.json, CSV tables, plots and report.html.

    Reads a study-lock snapshot (read-only; its SHA-256 is printed and recorded) or the live
    database; the run is recorded in the audit trail.
    """
    from pebs import __version__
    from pebs.services.actor import actor_for
    from pebs.services.analysis import run_analysis
    from pebs.services.trial import open_database

    cut = _data_cut(data_cut, snapshot)
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


class ReportKind(enum.StrEnum):
    """The DSMB report kinds."""

    open = "open"
    closed = "closed"


def dsmb_command(
    kind: Annotated[
        ReportKind,
        typer.Option("--kind", help="open: pooled over arms; closed: by arm (statistician)."),
    ],
    study: StudyOption,
    output: OutputOption,
    user: Annotated[str, typer.Option("--user", "-u", help="Your account.")],
    snapshot: SnapshotOption = None,
    data_cut: DataCutOption = None,
) -> None:
    """Write the data monitoring committee's open (pooled) or closed (by arm) report: tables
    (JSON, CSV), plots, report.html and report.pdf.

    The closed report adds the primary endpoint by arm and the group-sequential monitoring of
    the study's interim plan (analysis.interim). Reads a study-lock snapshot (read-only; its SHA-256
    is printed and recorded) or the live database; each report is recorded in the audit trail.
    """
    from pebs import __version__
    from pebs.services.actor import actor_for
    from pebs.services.analysis.dsmb import run_dsmb_report
    from pebs.services.trial import open_database

    cut = _data_cut(data_cut, snapshot)
    database = open_database(load_settings().database_url)
    try:
        report = run_dsmb_report(
            database.sessions,
            actor_for(database.sessions, user),
            study,
            kind=kind.value,
            folder=output,
            software_version=__version__,
            snapshot=snapshot,
            today=cut,
        )
    finally:
        database.close()
    document = report.document
    typer.echo(f"pebs: DSMB {kind.value} report of {study} written to {output}")
    typer.echo(
        f"  source: {report.source.kind} {report.source.name}"
        + (f" sha256 {report.source.sha256}" if report.source.sha256 else "")
    )
    typer.echo(f"  data cut: {document['data_cut']}; women: {document['counts']['women']}")
    watch = document.get("monitoring")
    if watch is not None:
        said = watch.get("statement") or f"monitoring not computed: {watch['not_computed']}"
        typer.echo(f"  {said}")
    typer.echo(f"  report.pdf sha256 {report.files['report.pdf']}")
