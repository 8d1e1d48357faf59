"""``pebs export participants|dictionary``: streamed, audited exports of participant data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(help="Exports: participant data (CSV) and its dictionary.", no_args_is_help=True)


def _write_atomically(path: Path, chunks) -> int:
    """Write ``chunks`` to ``path`` through a ``.part`` file renamed at the end (an interrupted
    export leaves no file that looks complete); returns the lines written."""
    from pebs.io.errors import FileAccessError

    partial = path.with_name(path.name + ".part")
    n_lines = 0
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
                n_lines += chunk.count("\n")
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise FileAccessError(f"{path}: cannot write the export ({error.strerror})") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return n_lines


@app.command("participants")
def participants_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write.")],
    user: Annotated[
        str, typer.Option("--user", "-u", help="Your account: the export is scoped and audited.")
    ],
    study: Annotated[str, typer.Option("--study", help="Study name.")] = "mypebs-demo",
    identity: Annotated[
        bool, typer.Option("--identity", help="Add identifying columns (roles that register).")
    ] = False,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", help="Rows per page.")] = 1000,
) -> None:
    """Export the participants you may see as CSV, pseudonymised unless --identity."""
    from pebs.cli.demo import identity_keys
    from pebs.services.trial import actor_for, export_participants_csv, open_database

    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        actor = actor_for(database.sessions, user)
        chunks = export_participants_csv(
            database.sessions, actor, study, include_identity=identity, chunk_rows=chunk_rows,
            keys=identity_keys(settings) if identity else None,
        )  # fmt: skip
        n_lines = _write_atomically(output, chunks)
    finally:
        database.close()
    typer.echo(f"pebs: {max(n_lines - 1, 0):,} participants exported to {output} (audited)")


@app.command("dictionary")
def dictionary_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write.")],
    identity: Annotated[
        bool, typer.Option("--identity", help="Include the identifying columns.")
    ] = False,
) -> None:
    """Write the data dictionary of the participant export (column, type, unit, description)."""
    from pebs.services.trial import dictionary_csv

    n_lines = _write_atomically(output, [dictionary_csv(include_identity=identity)])
    typer.echo(f"pebs: {n_lines - 1} columns described in {output}")
