"""``pebs db upgrade``: migrate the trial database at ``PEBS_DATABASE_URL``."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from pebs.config import Settings, SettingsError

app = typer.Typer(help="The trial database: migrations.", no_args_is_help=True)


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
