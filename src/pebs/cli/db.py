"""``pebs db upgrade|backup|restore``: migrate, back up and restore the trial database at
``PEBS_DATABASE_URL``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from pebs.config import Settings, SettingsError

app = typer.Typer(help="The trial database: migrations, backup, restore.", no_args_is_help=True)


def load_settings() -> Settings:
    """The ``PEBS_*`` settings; a refused one is a :class:`SettingsError` naming the variable,
    on one line and without the values (which may be secrets)."""
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for item in error.errors(include_input=False, include_url=False):
            message = str(item["msg"]).removeprefix("Value error, ")
            if item["loc"]:
                message = f"PEBS_{str(item['loc'][0]).upper()}: {message}"
            problems.append(message)
        raise SettingsError("; ".join(problems)) from None


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database (PEBS_DATABASE_URL) to this release's schema; safe to repeat."""
    from pebs.services.trial import upgrade_database  # imported when used: a fast CLI start

    migrated = upgrade_database(load_settings().database_url)
    if migrated.before == migrated.after:
        typer.echo(f"pebs: {migrated.database} is already at revision {migrated.after}")
    else:
        before = migrated.before or "empty"
        typer.echo(f"pebs: {migrated.database} upgraded from {before} to {migrated.after}")


EXIT_CHAIN_BROKEN = 1
"""Backup or restore done, but the audit chain in it does not verify, or (restore) a restored
table does not match it."""


def _operator() -> str:
    """The operator, named in the audit trail as ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (some containers)
        return "cli:unknown"


@app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="The backup file to create (never overwritten).")],
) -> None:
    """Back up the database while it runs; write FILE and FILE.manifest.json (SHA-256, audit
    chain head, signed with the installation's key) and record a 'backup' audit event."""
    from pebs.services.operations import backup_database  # imported when used

    settings = load_settings()
    done = backup_database(
        settings.database_url, file, operator=_operator(),
        installation_key=settings.hmac_key_bytes(),
    )  # fmt: skip
    manifest = done.manifest
    typer.echo(f"pebs: backed up {manifest.source} to {done.path} ({manifest.size_bytes:,} bytes)")
    typer.echo(f"  schema revision: {manifest.schema_revision}")
    chain = "ok" if manifest.audit_chain_ok else "BROKEN"
    typer.echo(f"  audit chain in the backup: {chain}, {manifest.n_audit_events:,} events")
    typer.echo(f"  {manifest.audit_head}")
    typer.echo(f"  sha256: {manifest.sha256}")
    typer.echo(f"  manifest: {done.manifest_path} (signed, key id {manifest.signature_key_id})")
    typer.echo(f"  audit event {done.audit_event_id}: backup")
    if not manifest.audit_chain_ok:
        typer.echo(
            "pebs: the backup was written but its audit chain is BROKEN: run 'pebs audit verify'"
        )
        raise typer.Exit(EXIT_CHAIN_BROKEN)


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup made by 'pebs db backup'.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that is not empty.")
    ] = False,
    while_serving: Annotated[
        bool,
        typer.Option(
            "--while-serving",
            help="Restore although a pebs server is using the database (it will not notice).",
        ),
    ] = False,
) -> None:
    """Restore FILE into the database (stop 'pebs serve' first): checks the manifest's signature
    and the file's SHA-256, then verifies the restored audit chain against the head recorded at
    backup time and every restored table against the chain (exit 1 if either does not)."""
    from pebs.services.operations import restore_database  # imported when used

    settings = load_settings()
    done = restore_database(
        settings.database_url, file, operator=_operator(),
        installation_key=settings.hmac_key_bytes(), force=force, while_serving=while_serving,
    )  # fmt: skip
    manifest = done.manifest
    typer.echo(
        f"pebs: restored {file} (made {manifest.created_at} by pebs {manifest.pebs_version}, "
        f"signature ok, sha256 ok)"
    )
    if not done.chain.ok:
        typer.echo(
            f"pebs: the restored audit chain does not verify against {manifest.audit_head}: "
            f"{done.chain.summary}"
        )
        raise typer.Exit(EXIT_CHAIN_BROKEN)
    typer.echo(f"  audit chain {done.chain.summary}; matches {manifest.audit_head}")
    if done.deep is not None:
        typer.echo(f"  tables: {done.deep.summary}")
        for mismatch in done.deep.mismatches[:10]:
            typer.echo(f"    {mismatch.table}: {mismatch}")
    typer.echo(f"  audit event {done.audit_event_id}: restore")
    if done.needs_upgrade:
        typer.echo(
            f"  the database is at revision {done.revision}; this release needs "
            f"{done.head_revision}: run 'pebs db upgrade', then 'pebs audit verify --deep'"
        )
    if not done.ok:
        typer.echo(
            "pebs: the restored tables do not match their audit trail: the backup was altered; "
            "run 'pebs audit verify --deep'"
        )
        raise typer.Exit(EXIT_CHAIN_BROKEN)
