"""``pebs policy ...`` and ``pebs plan``: screening policies and personal plans."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pebs.screening import (
    DEFAULT_PLAN_YEARS,
    Woman,
    default_arm,
    load_policy,
    plan,
    shipped_policies,
)
from pebs.screening.describe import describe_policy
from pebs.screening.policy import PolicyError

policy_app = typer.Typer(help="Screening policies: list, show, check.", no_args_is_help=True)


@policy_app.command("list")
def list_command() -> None:
    """The policies shipped with pebs."""
    table = Table("name", "kind", "arm", "ages", "title")
    for name in shipped_policies():
        policy = load_policy(name)
        lo, hi = policy.ages
        table.add_row(name, policy.kind, policy.arm, f"{lo}-{hi - 1}", policy.title)
    Console().print(table)


@policy_app.command("show")
def show_command(name: Annotated[str, typer.Argument(help="A shipped name or a .toml path.")]):
    """Every rule of a policy, in words."""
    for line in describe_policy(load_policy(name)):
        typer.echo(line)


@policy_app.command("check")
def check_command(path: Annotated[Path, typer.Argument(help="A policy .toml file.")]) -> None:
    """Validate a policy file; the first problem is reported with its line and key."""
    if not path.is_file():
        raise PolicyError(f"{path}: no such file")
    policy = load_policy(path)
    typer.echo(
        f"{path}: ok: policy {policy.name!r}, {len(policy.rules)} rule(s), "
        f"{len(policy.no_screening)} no-screening entr(y/ies)"
        + (", study rules" if policy.study else "")
    )


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option) from exc


def plan_command(
    policy: Annotated[str, typer.Option(help="Policy name (pebs policy list) or .toml path.")],
    birth_date: Annotated[str, typer.Option(help="Date of birth, YYYY-MM-DD.")],
    start: Annotated[str, typer.Option(help="Plan start date, YYYY-MM-DD.")],
    arm: Annotated[
        str | None,
        typer.Option(help="Trial arm: standard or risk-based (default: the policy's arm)."),
    ] = None,
    level: Annotated[str | None, typer.Option(help="Risk level, in the policy's names.")] = None,
    risk_5y: Annotated[
        float | None, typer.Option("--risk-5y", help="Five-year risk as a proportion (0.012).")
    ] = None,
    density: Annotated[str | None, typer.Option(help="BI-RADS density a, b, c or d.")] = None,
    last_screen: Annotated[str | None, typer.Option(help="Date of the last screen.")] = None,
    years: Annotated[
        float | None, typer.Option(help=f"Plan length in years (default {DEFAULT_PLAN_YEARS:g}).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Plan end date instead of --years.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON list of exams.")] = False,
) -> None:
    """A woman's screening plan: dated exams with the rule and reason for each."""
    chosen = load_policy(policy)
    woman = Woman(
        birth_date=_date(birth_date, "--birth-date"), arm=arm or default_arm(chosen), level=level,
        risk_5y=risk_5y, density=density.lower() if density else None,
        last_screen=_date(last_screen, "--last-screen"),
    )  # fmt: skip
    end = _date(until, "--until")
    result = plan(
        chosen, woman, _date(start, "--start"),
        years=DEFAULT_PLAN_YEARS if years is None and end is None else years, until=end,
    )  # fmt: skip
    if as_json:
        items = [exam.as_dict() for exam in result.exams]
        if not items:  # no exam: one entry that carries the reason
            reason = " ".join(result.notes) or "no exam in the plan period"
            items = [
                {"due": None, "window_start": None, "window_end": None, "modality": "none",
                 "reason": reason, "policy": result.policy}
            ]  # fmt: skip
        typer.echo(json.dumps(items, indent=2))
        return
    console = Console()
    table = Table(
        "due", "window", "exams", "reason",
        title=f"Plan under {result.policy}, {result.start} to {result.end}",
    )  # fmt: skip
    visits: dict[date, list] = {}
    for exam in result.exams:  # one row per visit: the modalities due that day
        visits.setdefault(exam.due, []).append(exam)
    for due, exams in visits.items():
        reasons = list(dict.fromkeys(e.reason for e in exams))
        table.add_row(
            due.isoformat(), f"{exams[0].window_start} to {exams[0].window_end}",
            " + ".join(e.modality for e in exams), "\n".join(reasons),
        )  # fmt: skip
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
