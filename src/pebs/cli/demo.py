"""``pebs demo seed``: fill a new database with synthetic demo participants."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(help="Demo data: synthetic participants for trying pebs.", no_args_is_help=True)

DEMO_STUDY = "mypebs-demo"
DEMO_ENTERER = "demo-data-manager"
DEMO_STATISTICIAN = "demo-statistician"


def identity_keys(settings):
    """The identity keys of the installation (encryption of identifying data, national-ID HMAC)."""
    from pebs.services.keys import IdentityKeys

    return IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())


@app.command("seed")
def seed_command(
    participants: Annotated[
        int, typer.Option("--participants", "-n", help="Synthetic women to enter (40-5000).")
    ] = 300,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: a fixed demo seed).")
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="The demo's today, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Do nothing (exit 0) if the study has participants."),
    ] = False,
) -> None:
    """Load the demo study (with one account per role) and enter synthetic participants.

    They go through the real use cases (registration to follow-up), entered by
    demo-data-manager, with registrations over the past 18 months. Refused in production and
    for a study that already has participants.
    """
    from pebs.services.actor import Actor, actor_for
    from pebs.services.errors import InvalidInput, PermissionDenied
    from pebs.services.trial import load_study_config, open_database, seed_demo_participants
    from pebs.services.trial.demo_data import DEFAULT_SEED, StudyNotEmpty

    settings = load_settings()
    if settings.environment == "production":
        raise PermissionDenied("demo data is never entered in production (PEBS_ENVIRONMENT)")
    try:
        day = None if today is None else date.fromisoformat(today)
    except ValueError:
        raise InvalidInput(f"--today: {today!r} is not a date YYYY-MM-DD") from None
    database = open_database(settings.database_url)
    try:
        load_study_config(database.sessions, Actor.system("cli:demo"), DEMO_STUDY, demo_users=True)
        seeded = seed_demo_participants(
            database.sessions, actor_for(database.sessions, DEMO_ENTERER),
            identity_keys(settings), DEMO_STUDY, n=participants,
            seed=DEFAULT_SEED if seed is None else seed, today=day,
            statistician=actor_for(database.sessions, DEMO_STATISTICIAN),
        )  # fmt: skip
    except StudyNotEmpty as error:
        if not if_empty:
            raise
        typer.echo(f"pebs: {DEMO_STUDY} already has {error.n_existing:,} participants; kept")
        return
    finally:
        database.close()
    typer.echo(
        f"pebs: {seeded.n_participants:,} demo participants entered in {seeded.study} "
        f"(seed {seeded.seed}, today {seeded.today}) at {seeded.n_sites} sites"
    )
    typer.echo("  countries: " + ", ".join(f"{k} {v}" for k, v in seeded.by_country.items()))
    typer.echo("  arms: " + ", ".join(f"{k} {v}" for k, v in seeded.by_arm.items()))
    typer.echo("  states: " + ", ".join(f"{k} {v}" for k, v in seeded.by_status.items()))
    typer.echo(
        f"  visits {seeded.n_visits} (recalls {seeded.n_recalls}, biopsies {seeded.n_biopsies}), "
        f"cancers {seeded.n_cancers}, deaths {seeded.n_deaths}, withdrawals "
        f"{seeded.n_withdrawals}, questionnaires {seeded.n_questionnaires}"
    )
