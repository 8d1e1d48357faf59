"""``pebs risk pending``: the risk-based women whose final risk assessment is pending."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from pebs.cli.db import load_settings

if TYPE_CHECKING:
    from pebs.services.trial.risk_pending import KitProgress, RiskPendingEntry

_MISSING = {"questionnaire": "questionnaire", "density": "baseline density", "prs": "PRS"}


def describe(entry: RiskPendingEntry) -> str:
    """One line: what her final assessment waits for, her kit, a held assessment.

    >>> from pebs.services.trial.risk_pending import KitProgress, RiskPendingEntry
    >>> kit = KitProgress("MP-7QX2K9ZDL", "shipped", date(2026, 6, 1), date(2026, 6, 3),
    ...                   date(2026, 8, 24), True)
    >>> describe(RiskPendingEntry("IT-TO-000001", "IT-TO", "randomised_risk_based",
    ...                           ("density", "prs"), None, kit, None))
    'missing: baseline density; PRS: kit MP-7QX2K9ZDL shipped 2026-06-03, result due 2026-08-24, overdue'
    """  # noqa: E501
    parts = []
    for kind in entry.missing:
        text = _MISSING[kind]
        kit = entry.kit
        if kind == "prs":
            text += ": " + ("no kit" if kit is None else _kit(kit))
        parts.append(text)
    line = f"missing: {'; '.join(parts)}" if parts else "nothing missing"
    if entry.provisional_level is not None:
        line += f"; provisional level {entry.provisional_level}"
    if entry.held is not None:
        line += f"; held for a clinician: {entry.held.reason}"
    return line


def _kit(kit: KitProgress) -> str:
    day = {"collected": kit.collected_on, "shipped": kit.shipped_on}.get(kit.state)
    text = f"kit {kit.kit_id} {kit.state}" + ("" if day is None else f" {day}")
    if kit.overdue:
        text += f", result due {kit.result_due}, overdue"
    return text


def pending_command(
    user: Annotated[
        str, typer.Option("--user", "-u", help="Your account: its role and sites apply.")
    ],
    study: Annotated[str, typer.Option("--study", help="Study name.")] = "mypebs-demo",
    site: Annotated[
        str | None, typer.Option("--site", help="One site (default: every site you see).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="The day, YYYY-MM-DD (default: today, UTC).")
    ] = None,
) -> None:
    """Risk-based women whose final risk assessment is pending: what each one waits for
    (questionnaire, baseline density, PRS with her kit's state), a provisional level, and an
    automatic assessment held for a clinician."""
    from datetime import UTC, datetime

    from pebs.services.actor import actor_for
    from pebs.services.errors import InvalidInput
    from pebs.services.trial import open_database, risk_pending

    try:
        day = datetime.now(UTC).date() if on is None else date.fromisoformat(on)
    except ValueError:
        raise InvalidInput(f"{on!r} is not a date YYYY-MM-DD", field="--on") from None
    database = open_database(load_settings().database_url)
    try:
        actor = actor_for(database.sessions, user)
        entries = []
        after = None
        while True:
            page = risk_pending(database.sessions, actor, study, on=day, site=site, after=after,
                                limit=1000)  # fmt: skip
            entries.extend(page.entries)
            if page.next_after is None:
                break
            after = page.next_after
    finally:
        database.close()
    typer.echo(f"pebs: {len(entries)} women with their risk pending on {day}")
    for entry in entries:
        typer.echo(f"  {entry.study_id}  {entry.pathway_state}  {describe(entry)}")
