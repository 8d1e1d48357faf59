"""``pebs demo seed``: fill a new database with synthetic demo participants; ``pebs demo
lab-batch``: a synthetic genotype batch of their kits for trying ``pebs lab import``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(
    help="Demo data: synthetic participants and genotype batches for trying pebs.",
    no_args_is_help=True,
)

DEMO_STUDY = "mypebs-demo"
DEMO_ENTERER = "demo-data-manager"
DEMO_STATISTICIAN = "demo-statistician"
DEMO_LABORATORY = "demo-laboratory"


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
    demo-data-manager, with registrations over the past 18 months; the saliva kits of the
    risk-based arm are received and genotyped by demo-laboratory. Refused in production and for
    a study that already has participants.
    """
    from pebs.services.actor import Actor, actor_for
    from pebs.services.errors import InvalidInput
    from pebs.services.trial import load_study_config, open_database, seed_demo_participants
    from pebs.services.trial.demo_data import DEFAULT_SEED, StudyNotEmpty

    settings = _not_production()
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
            laboratory=actor_for(database.sessions, DEMO_LABORATORY),
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
    typer.echo("  saliva kits: " + ", ".join(f"{k} {v}" for k, v in seeded.by_kit_state.items()))
    typer.echo(
        f"  shipments {seeded.n_shipments}, laboratory batches {seeded.n_lab_batches}, risk "
        f"questionnaires {seeded.n_risk_questionnaires}, risks computed when complete "
        f"{seeded.n_automatic_risks}, by hand {seeded.n_risks_by_hand}"
    )


@app.command("lab-batch")
def lab_batch_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The VCF to write (.vcf or .vcf.gz).")
    ],
    study: Annotated[str, typer.Option("--study", help="Study name.")] = DEMO_STUDY,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default: a fixed demo seed).")
    ] = None,
) -> None:
    """Write a synthetic genotype batch of the study's kits shipped or received without a result.

    As the demo laboratory would return it: sample names are kit IDs, one sample fails quality
    control and one is an unknown kit. Import it with ``pebs lab import``.
    """
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database
    from pebs.services.trial.demo_data import DEFAULT_SEED, write_demo_lab_batch

    settings = _not_production()
    database = open_database(settings.database_url)
    try:
        batch = write_demo_lab_batch(
            database.sessions, actor_for(database.sessions, DEMO_LABORATORY), study, output,
            seed=DEFAULT_SEED if seed is None else seed,
        )  # fmt: skip
    finally:
        database.close()
    typer.echo(
        f"pebs: wrote {batch.path}: {len(batch.kit_ids) + 1:,} samples, the {len(batch.kit_ids):,} "
        f"kit(s) of {batch.study} shipped or received without a result (kit {batch.failing or '-'} "
        f"fails quality control) and unknown kit {batch.unknown}"
    )
    typer.echo(f"  import it: pebs lab import {batch.path} --study {batch.study} --as "
               f"{DEMO_LABORATORY}")  # fmt: skip


def _not_production():
    """The settings, unless this is a production installation."""
    from pebs.services.errors import PermissionDenied

    settings = load_settings()
    if settings.environment == "production":
        raise PermissionDenied("demo data is never entered in production (PEBS_ENVIRONMENT)")
    return settings
