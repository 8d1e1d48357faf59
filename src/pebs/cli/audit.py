"""``pebs audit verify [--deep]``: walk the audit chain and report its head, or the first broken
event; with ``--deep``, also compare every audited table with the state the chain gives it."""

from __future__ import annotations

from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(help="The tamper-evident audit trail: verify.", no_args_is_help=True)

EXIT_BROKEN = 1
"""Exit code when the chain is broken or a table does not match it (the check ran; its answer
is no)."""


@app.command("verify")
def verify_command(
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="An exported head line ('pebs-audit-head id=N hash=...') that must still match.",
        ),
    ] = None,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also replay the chain and compare every audited table's rows with it.",
        ),
    ] = False,
) -> None:
    """Verify every event's hash and link; print the chain length and head (exit 1 if broken).

    With --deep, also compare participants, identities, eligibility, consents, allocations,
    allocation slots and lists, risk assessments, plans, visits, outcomes, deaths,
    questionnaires and accounts with the audit trail (exit 1 on any mismatch)."""
    if deep:
        _deep(head)
        return
    from pebs.services.trial import open_database, verify_audit_chain  # imported when used

    database = open_database(load_settings().database_url, read_only=True)
    try:
        report = verify_audit_chain(database.sessions, expected_head=head)
    finally:
        database.close()
    if report.ok:
        typer.echo(f"pebs: audit chain ok: {report.n_events:,} events")
        typer.echo(report.head_line)
        return
    typer.echo(
        f"pebs: audit chain BROKEN at event {report.first_broken_id}: {report.reason} "
        f"({report.n_events:,} events stored)"
    )
    raise typer.Exit(EXIT_BROKEN)


def _deep(head: str | None) -> None:
    from pebs.services.operations import deep_verify_database  # imported when used

    report = deep_verify_database(load_settings().database_url, expected_head=head)
    typer.echo(f"pebs: audit chain {report.chain_summary}")
    width = max(len(table.table) for table in report.tables)
    typer.echo(f"  {'table':<{width}}  {'rows':>9}  {'mismatches':>10}  {'unverified':>10}")
    for table in report.tables:
        typer.echo(
            f"  {table.table:<{width}}  {table.n_rows:>9,}  {table.n_mismatches:>10,}  "
            f"{table.n_unverified:>10,}"
        )
    for mismatch in report.mismatches:
        typer.echo(f"  {mismatch.table}: {mismatch}")
    typer.echo(f"pebs: {report.summary}")
    if not report.ok:
        raise typer.Exit(EXIT_BROKEN)
