"""``pebs study load FILE|NAME``: load a study configuration into the trial database; ``pebs study
lists``: generate its allocation lists; ``pebs study lock`` / ``unlock``: the database lock."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(
    help="Study configurations: load; allocation lists; database lock.", no_args_is_help=True
)


def _operator():
    """The operator, named in the audit trail as ``cli:<login>``."""
    from pebs.services.actor import Actor

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        login = "unknown"
    return Actor.system(f"cli:{login}")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}(s)" for kind, n in sorted(counts.items()))


@app.command("load")
def load_command(
    study: Annotated[str, typer.Argument(help="A shipped study (mypebs-demo) or a .toml path.")],
    demo_users: Annotated[
        bool, typer.Option("--demo-users", help="Also create one demo account per role.")
    ] = False,
) -> None:
    """Load a study (countries, sites, protocol versions, consent documents, arms, strata).

    Loading the same file again changes nothing; a changed file adds and updates, never deletes.
    """
    from pebs.services.trial import load_study_config, open_database  # imported when used

    database = open_database(load_settings().database_url)
    try:
        result = load_study_config(database.sessions, _operator(), study, demo_users=demo_users)
    finally:
        database.close()
    if not result.changed:
        typer.echo(f"pebs: study {result.study} is already loaded; nothing changed")
    else:
        typer.echo(f"pebs: study {result.study} loaded")
        if result.created:
            typer.echo(f"  created: {_counts(dict(result.created))}")
        if result.updated:
            typer.echo(f"  updated: {_counts(dict(result.updated))}")
    typer.echo(f"  configuration sha256: {result.config_sha256}")
    if result.demo_users:
        typer.echo(f"  demo accounts (no password yet): {', '.join(result.demo_users)}")
    for entry in result.not_in_file:
        typer.echo(f"  note: {entry} is in the database but not in the file (kept)")


@app.command("lists")
def lists_command(
    study: Annotated[str, typer.Argument(help="Study name (mypebs-demo).")],
    slots: Annotated[
        int, typer.Option("--slots", min=1, help="At least this many slots per stratum.")
    ],
    user: Annotated[
        str, typer.Option("--user", "-u", help="Your account (a statistician; audited).")
    ],
    stratum: Annotated[
        list[str] | None,
        typer.Option("--stratum", help="Only this stratum (SITE:AGE, e.g. IT-TO:50-59); repeat."),
    ] = None,
    test: Annotated[
        bool, typer.Option("--test", help="A test list, used only by test participants.")
    ] = False,
) -> None:
    """Generate the next allocation list (or an extension) for every stratum of STUDY.

    The seed comes from the operating system and is shown once, for the statistician's sealed
    record; it is stored nowhere else readable.
    """
    from pebs.services.actor import actor_for
    from pebs.services.trial import generate_allocation_list, open_database

    database = open_database(load_settings().database_url)
    try:
        made = generate_allocation_list(
            database.sessions, actor_for(database.sessions, user), study,
            slots_per_stratum=slots, strata=stratum or None, is_test=test,
        )  # fmt: skip
    finally:
        database.close()
    kind = "test list" if made.is_test else "list"
    typer.echo(
        f"pebs: allocation {kind} {made.version} of {made.study}: {made.n_slots:,} slots in "
        f"{made.n_strata:,} strata ({made.algorithm} {made.algorithm_version}), SHA-256 "
        f"{made.sha256}"
    )
    typer.echo(f"  seed (for the sealed record only): {made.seed}")


@app.command("lock")
def lock_command(
    study: Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")],
    user: Annotated[str, typer.Option("--user", "-u", help="Your account (a data manager).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The snapshot file to write (new).")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is locked (audited).")
    ] = "database lock",
) -> None:
    """Lock STUDY (no write is accepted until it is unlocked) and write its snapshot.

    The snapshot is a SQLite copy of the database (a pg_dump archive on PostgreSQL); its SHA-256
    is printed and recorded in the audit trail.
    """
    from pebs.services.actor import actor_for
    from pebs.services.monitoring import lock_study
    from pebs.services.trial import open_database

    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        locked = lock_study(
            database.sessions, actor_for(database.sessions, user), study, reason=reason,
            snapshot=output, database_url=settings.database_url,
            installation_key=settings.hmac_key_bytes(),
        )  # fmt: skip
    finally:
        database.close()
    typer.echo(f"pebs: study {study} locked by {locked.locked_by}")
    typer.echo(f"  snapshot {output}: SHA-256 {locked.snapshot_sha256}")


@app.command("unlock")
def unlock_command(
    study: Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")],
    user: Annotated[str, typer.Option("--user", "-u", help="Your account (a data manager).")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is unlocked (audited).")],
) -> None:
    """Unlock STUDY, with a reason; its snapshot stays as written."""
    from pebs.services.actor import actor_for
    from pebs.services.monitoring import unlock_study
    from pebs.services.trial import open_database

    database = open_database(load_settings().database_url)
    try:
        unlock_study(database.sessions, actor_for(database.sessions, user), study, reason=reason)
    finally:
        database.close()
    typer.echo(f"pebs: study {study} unlocked ({reason})")
