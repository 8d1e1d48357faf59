"""``pebs audit verify``: walk the audit chain and report its head, or the first broken event."""

from __future__ import annotations

from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(help="The tamper-evident audit trail: verify.", no_args_is_help=True)

EXIT_BROKEN = 1
"""Exit code when the chain is broken (the check ran; its answer is no)."""


@app.command("verify")
def verify_command(
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="An exported head line ('pebs-audit-head id=N hash=...') that must still match.",
        ),
    ] = None,
) -> None:
    """Verify every event's hash and link; print the chain length and head (exit 1 if broken)."""
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
