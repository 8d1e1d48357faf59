"""``pebs serve``: run the web site and the API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from pebs.cli.db import load_settings

APP_FACTORY = "pebs.web.site:from_environment"
"""The app factory, by import string: uvicorn imports it in the server process (and in each
worker), so the command line does not import the API itself."""


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the web site and the REST API (``/api/v1``; ``/api/openapi.json``) until Ctrl-C."""
    import uvicorn

    from pebs.services.trial import open_database  # imported when used

    settings = load_settings()
    open_database(settings.database_url).close()  # refuses an unreachable or old database
    typer.echo(f"pebs: serving the site at http://{host}:{port}/ (API at /api/v1; Ctrl-C to stop)")
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, server_header=False, log_level="info")  # fmt: skip
