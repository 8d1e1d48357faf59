"""``pg_dump`` and ``pg_restore``: found on ``PATH``, given the database URL safely.

The URL becomes a libpq connection string *without* the password (host, port, user, database
and the URL's query parameters, e.g. ``options=-csearch_path=...`` or ``sslmode``); the password
goes to the child process in ``PGPASSWORD`` only, so it never appears in a process list, a
message or a log. ``--no-password`` makes the tools fail instead of prompting.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from pebs.services.errors import ToolFailed, ToolMissing

__all__ = ["DEBIAN_PACKAGE", "Connection", "connection_for", "find_tool", "run_tool"]

DEBIAN_PACKAGE = "postgresql-client"


@dataclass(frozen=True)
class Connection:
    """How a PostgreSQL client program reaches the database of a URL."""

    conninfo: str
    """libpq ``key=value`` string, without the password."""
    env: dict[str, str]
    """Environment of the child process (``PGPASSWORD`` when the URL has a password)."""


def find_tool(name: str) -> str:
    """Full path of ``name`` on ``PATH``; :class:`ToolMissing` naming the package otherwise."""
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(
            f"{name} is not on PATH: install the PostgreSQL client programs (Debian/Ubuntu: "
            f"'apt-get install {DEBIAN_PACKAGE}'; their major version must be at least the "
            "server's)"
        )
    return path


def connection_for(url: str) -> Connection:
    """The libpq connection string and environment for a ``postgresql://`` URL.

    >>> c = connection_for("postgresql+psycopg://ops:s3cret@db.example:5433/pebs?sslmode=require")
    >>> c.conninfo
    'host=db.example port=5433 user=ops dbname=pebs sslmode=require'
    >>> "s3cret" in c.conninfo, c.env["PGPASSWORD"]
    (False, 's3cret')
    """
    parsed = make_url(url)
    values: dict[str, str] = {}
    for key, value in (
        ("host", parsed.host),
        ("port", parsed.port),
        ("user", parsed.username),
        ("dbname", parsed.database),
    ):
        if value not in (None, ""):
            values[key] = str(value)
    for key, value in parsed.query.items():
        values[key] = value[-1] if isinstance(value, tuple) else value
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return Connection(make_conninfo("", **values), env)


def run_tool(argv: Sequence[str], connection: Connection) -> None:
    """Run a client program; :class:`ToolFailed` with its last message lines if it fails."""
    done = subprocess.run(
        list(argv), env=connection.env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        detail = " | ".join(lines[-3:]) or "no message"
        name = os.path.basename(argv[0])
        raise ToolFailed(f"{name} failed (exit {done.returncode}): {detail}")
