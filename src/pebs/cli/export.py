"""``pebs export participants|dictionary``: streamed, audited exports of participant data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings
from pebs.io.atomic import write_bytes_atomically
from pebs.io.exports import FORMATS, WRITERS

app = typer.Typer(help="Exports: participant data and its dictionary.", no_args_is_help=True)

_FORMAT_HELP = f"File format: {', '.join(FORMATS)}."
_TABLE_HELP = f"File format: {', '.join(WRITERS)}."


@app.command("participants")
def participants_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    user: Annotated[
        str, typer.Option("--user", "-u", help="Your account: the export is scoped and audited.")
    ],
    study: Annotated[str, typer.Option("--study", help="Study name.")] = "mypebs-demo",
    identity: Annotated[
        bool, typer.Option("--identity", help="Add identifying columns (roles that register).")
    ] = False,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", help="Rows per page.")] = 1000,
    format: Annotated[str, typer.Option("--format", help=_FORMAT_HELP)] = "csv",
) -> None:
    """Export the participants you may see (CSV, Parquet, CDISC ODM, FHIR), pseudonymised unless
    --identity (table formats only)."""
    from pebs.cli.demo import identity_keys
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database
    from pebs.services.trial.exports import export_participants

    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        actor = actor_for(database.sessions, user)
        export = export_participants(
            database.sessions, actor, study, format=format, include_identity=identity,
            chunk_rows=chunk_rows, keys=identity_keys(settings) if identity else None,
        )  # fmt: skip
        write_bytes_atomically(output, export.chunks)
    finally:
        database.close()
    n_rows = export.summary.n_rows if export.summary else 0
    typer.echo(f"pebs: {n_rows:,} participants exported to {output} (audited)")


@app.command("dictionary")
def dictionary_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    identity: Annotated[
        bool, typer.Option("--identity", help="Include the identifying columns.")
    ] = False,
    format: Annotated[str, typer.Option("--format", help=_TABLE_HELP)] = "csv",
) -> None:
    """Write the data dictionary of the participant export (column, type, unit, description)."""
    from pebs.services.trial.exports import data_dictionary, export_dictionary

    write_bytes_atomically(output, export_dictionary(format, include_identity=identity).chunks)
    n_columns = len(data_dictionary(include_identity=identity))
    typer.echo(f"pebs: {n_columns} columns described in {output}")
