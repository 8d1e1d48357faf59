"""``pebs kits ...``: saliva kits at a site (assign, collect, ship, abandon, replace), their
receipt at the laboratory, the site's worklists and a box's manifest.

Every command acts as the account given with ``--user``: its role and scope apply, and each
change is audited under its name (``docs/trial/samples.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from pebs.cli.db import load_settings

app = typer.Typer(
    help="Saliva kits: assign, collect, ship, receive, worklists, manifests.",
    no_args_is_help=True,
)

User = Annotated[
    str, typer.Option("--user", "-u", help="Your account: its role and sites apply (audited).")
]
Study = Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")]
Site = Annotated[str, typer.Option("--site", help="Site code (IT-TO).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (audited).")]


@contextmanager
def _acting(user: str) -> Iterator[tuple[Any, Any]]:
    """(session maker, actor) of ``user`` on the configured database, closed afterwards."""
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database

    database = open_database(load_settings().database_url)
    try:
        yield database.sessions, actor_for(database.sessions, user)
    finally:
        database.close()


def _day(text: str | None, option: str) -> date | None:
    from pebs.services.errors import InvalidInput

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date YYYY-MM-DD", field=option) from None


def _instant(text: str | None, option: str) -> datetime | None:
    from pebs.services.errors import InvalidInput

    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not a date and time YYYY-MM-DDTHH:MM with its offset (+01:00, Z)",
            field=option,
        ) from None


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


@app.command("assign")
def assign_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID (IT-TO-000012).")],
    user: User,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (audited).")] = None,
) -> None:
    """Give a woman of the risk-based arm a new kit (none may count yet); prints its ID."""
    from pebs.services.samples import assign_kit

    with _acting(user) as (sessions, actor):
        done = assign_kit(sessions, actor, study_id, reason=reason)
    typer.echo(f"pebs: kit {done.kit_id} assigned to {done.study_id}")


@app.command("list")
def list_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID (IT-TO-000012).")], user: User
) -> None:
    """A woman's kits, oldest first: state and dates, one line each."""
    from pebs.services.samples import samples_of

    with _acting(user) as (sessions, actor):
        found = samples_of(sessions, actor, study_id)
    if not found.kits:
        typer.echo(f"pebs: {found.study_id} has no kit")
    for kit in found.kits:
        typer.echo(
            f"{kit.kit_id}  {kit.state:<22}  assigned {kit.assigned_at:%Y-%m-%d}  "
            f"collected {_or_dash(kit.collected_on)}  shipment {_or_dash(kit.shipment)}"
            + (f"  replaces {kit.replaces}" if kit.replaces else "")
            + (f"  ({kit.abandoned_reason})" if kit.abandoned_reason else "")
        )


@app.command("show")
def show_command(
    kit_id: Annotated[str, typer.Argument(help="The kit ID on the tube (MP-7QX2K9ZDL).")],
    user: User,
) -> None:
    """One kit by its ID: state, site, shipment and dates (no participant for the laboratory)."""
    from pebs.services.samples import sample_by_kit

    with _acting(user) as (sessions, actor):
        kit = sample_by_kit(sessions, actor, kit_id)
    for label, value in (
        ("kit", kit.kit_id), ("state", kit.state), ("site", kit.site),
        ("participant", kit.study_id), ("assigned", f"{kit.assigned_at:%Y-%m-%d %H:%M} UTC"),
        ("collected", kit.collected_on), ("shipment", kit.shipment), ("shipped", kit.shipped_on),
        ("received", kit.received_at), ("result", kit.result_at), ("replaces", kit.replaces),
    ):  # fmt: skip
        if value is not None:
            typer.echo(f"{label:<12} {value}")


@app.command("collect")
def collect_command(
    kit_id: Annotated[str, typer.Argument(help="The kit ID on the tube.")],
    user: User,
    on: Annotated[str, typer.Option("--on", help="The day she gave saliva, YYYY-MM-DD.")],
) -> None:
    """Record that she gave saliva in the kit on a day (not in the future)."""
    from pebs.services.samples import record_collection

    day = _day(on, "--on")
    assert day is not None
    with _acting(user) as (sessions, actor):
        done = record_collection(sessions, actor, kit_id, day)
    typer.echo(f"pebs: kit {done.kit_id} collected on {done.collected_on}")


@app.command("ship")
def ship_command(
    kit_ids: Annotated[list[str], typer.Argument(help="The kit IDs in the box.")],
    user: User,
    study: Study,
    site: Site,
    on: Annotated[str, typer.Option("--on", help="The day the box leaves, YYYY-MM-DD.")],
) -> None:
    """Put collected kits of a site in a new shipment; prints its reference for the box."""
    from pebs.services.samples import ship_samples

    day = _day(on, "--on")
    assert day is not None
    with _acting(user) as (sessions, actor):
        done = ship_samples(sessions, actor, study, site, kit_ids, day)
    typer.echo(f"pebs: shipment {done.reference}: {len(done.kit_ids)} kits shipped on {day}")


@app.command("receive")
def receive_command(
    reference: Annotated[str, typer.Argument(help="The shipment's reference (FR-PA-S0001).")],
    user: User,
    received_at: Annotated[
        str | None,
        typer.Option("--received-at", help="When it arrived, with its offset (default: now)."),
    ] = None,
) -> None:
    """Record a shipment's arrival at the laboratory; its shipped kits become received."""
    from pebs.services.samples import receive_shipment

    arrived = _instant(received_at, "--received-at")
    with _acting(user) as (sessions, actor):
        done = receive_shipment(sessions, actor, reference, received_at=arrived)
    typer.echo(f"pebs: shipment {done.reference} received: {len(done.received)} kits received")
    for kit in done.unchanged:
        typer.echo(f"  {kit.kit_id}  left as it is ({kit.state})")


@app.command("abandon")
def abandon_command(
    kit_id: Annotated[str, typer.Argument(help="The kit ID on the tube.")],
    user: User,
    reason: Reason,
) -> None:
    """Give up a kit that will bring no result (lost, broken, declined)."""
    from pebs.services.samples import abandon_sample

    with _acting(user) as (sessions, actor):
        done = abandon_sample(sessions, actor, kit_id, reason=reason)
    typer.echo(f"pebs: kit {done.kit_id} abandoned (was {done.previous_state})")


@app.command("recollect")
def recollect_command(
    kit_id: Annotated[str, typer.Argument(help="The kit that failed quality control.")],
    user: User,
    reason: Reason,
) -> None:
    """Replace a kit that failed quality control by a new kit; prints the new kit's ID."""
    from pebs.services.samples import request_recollection

    with _acting(user) as (sessions, actor):
        done = request_recollection(sessions, actor, kit_id, reason=reason)
    typer.echo(f"pebs: kit {done.kit_id} assigned to {done.study_id}, replacing {kit_id}")


@app.command("worklist")
def worklist_command(
    user: User,
    study: Study,
    site: Site,
    on: Annotated[
        str | None, typer.Option("--on", help="The day, YYYY-MM-DD (default: today, UTC).")
    ] = None,
) -> None:
    """A site's kits to send, overdue results, recollections due and kits not collected."""
    from datetime import UTC

    from pebs.services.samples import kit_worklists

    day = _day(on, "--on") or datetime.now(UTC).date()
    with _acting(user) as (sessions, actor):
        lists = kit_worklists(sessions, actor, study, site, on=day)
    sections = (
        ("to send", lists.to_send, lambda e: f"collected {e.collected_on}"),
        (f"overdue (no result {lists.result_expected_weeks} weeks after collection)",
         lists.overdue, lambda e: f"due {e.result_due}  {e.state}  {_or_dash(e.shipment)}"),
        ("recollections due", lists.recollections_due, lambda e: f"replaces {e.replaces}"),
        ("not collected", lists.not_collected,
         lambda e: f"assigned {e.assigned_at:%Y-%m-%d}"),
    )  # fmt: skip
    typer.echo(f"pebs: kit worklists of {lists.site} on {lists.on}")
    for title, entries, detail in sections:
        typer.echo(f"{title}: {len(entries)}")
        for entry in entries:
            typer.echo(f"  {entry.kit_id}  {entry.study_id}  {detail(entry)}")


@app.command("manifest")
def manifest_command(
    user: User,
    study: Study,
    site: Site,
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write.")],
    shipment: Annotated[
        str | None,
        typer.Option("--shipment", help="The shipment (default: the kits waiting to be sent)."),
    ] = None,
) -> None:
    """Write a box's manifest (kit ID, collection day, shipment, site; no participant) as CSV."""
    from pebs.io.atomic import write_bytes_atomically
    from pebs.services.samples import kit_manifest

    with _acting(user) as (sessions, actor):
        manifest = kit_manifest(sessions, actor, study, site, shipment=shipment)
    write_bytes_atomically(output, [manifest.content])
    typer.echo(f"pebs: {manifest.n_kits} kits in the manifest {output}")
