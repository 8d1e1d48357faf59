"""``pebs lab import|conflicts|resolve``: the central laboratory's genotype batches.

Every command acts as an account (``--as USER``: the laboratory's, or a data manager's) and is
audited under it; the database is ``PEBS_DATABASE_URL``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(
    help="The central laboratory: genotype batch imports, conflicting results.",
    no_args_is_help=True,
)

_AS = typer.Option(
    "--user", "-u", "--as", help="Your account: the command is checked and audited under it."
)
_JSON = typer.Option("--json", help="Print JSON instead of a table.")


def _run(user: str, call):
    """``call(sessions, actor, keys)`` on the installation's database, as account ``user``."""
    from pebs.cli.demo import identity_keys
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database

    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        return call(database.sessions, actor_for(database.sessions, user), identity_keys(settings))
    finally:
        database.close()


def _report_lines(report) -> list[str]:
    action = "dry run of" if report.dry_run else "imported" if report.stored else "checked"
    where = f" as batch {report.reference}" if report.stored else ""
    lines = [
        f"pebs: {action} {report.file_name} ({report.n_samples:,} samples){where}",
        f"  score {report.score_id} (scoring file SHA-256 {report.score_version[:16]}...), "
        f"{report.n_variants - len(report.absent_variants)} of {report.n_variants} variants in "
        f"the file; quality control: call rate >= {report.min_call_rate:g}, at most "
        f"{report.max_imputed} imputed",
    ]
    width = max(len(outcome.value) for outcome in report.kits)
    for outcome, kits in report.kits.items():
        shown = ", ".join(kits[:5]) + (f" and {len(kits) - 5:,} more" if len(kits) > 5 else "")
        lines.append(f"  {outcome.value:<{width}}  {len(kits):>7,}  {shown}".rstrip())
    lines.append(f"  risks completed: {report.n_risks_completed:,}")
    if report.changes_nothing:
        lines.append("  nothing new to store: every sample is unchanged or refused")
    if report.previous_imports:
        lines.append(f"  this file was imported before: {', '.join(report.previous_imports)}")
    if report.dry_run:
        lines.append("  dry run: nothing was stored")
    return lines


@app.command("import")
def import_command(
    genotypes: Annotated[Path, typer.Argument(help="The laboratory's VCF (.vcf or .vcf.gz).")],
    study: Annotated[str, typer.Option("--study", help="Study name.")],
    user: Annotated[str, _AS],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything, then store nothing.")
    ] = False,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """Import a genotype batch and report what happened to every kit.

    The VCF's sample names are kit IDs; each sample is scored, checked and stored (or refused)
    in one transaction.
    """
    from pebs.services.laboratory import import_genotype_batch

    report = _run(user, lambda sessions, actor, keys: import_genotype_batch(
        sessions, actor, keys, study, genotypes, dry_run=dry_run))  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo("\n".join(_report_lines(report)))


@app.command("conflicts")
def conflicts_command(
    user: Annotated[str, _AS],
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """List the genotype results that conflict with a kit's accepted one (data managers)."""
    from pebs.services.laboratory import open_genotype_conflicts

    conflicts = _run(user, lambda sessions, actor, keys: open_genotype_conflicts(sessions, actor))
    if as_json:
        rows = [{**asdict(c), "recorded_at": c.recorded_at.isoformat()} for c in conflicts]
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"pebs: {len(conflicts)} open genotype conflict(s)")
    for c in conflicts:
        typer.echo(
            f"  {c.kit_id}  {c.study_id}  stored z {_z(c.stored_prs_z)} ({c.stored_batch}), "
            f"new z {_z(c.prs_z)} ({c.batch}, call rate {c.call_rate:.4f})"
        )


def _z(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


@app.command("resolve")
def resolve_command(
    kit_id: Annotated[str, typer.Argument(help="The kit whose conflict to resolve.")],
    keep: Annotated[str, typer.Option("--keep", help="Which result to keep: stored or new.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    user: Annotated[str, _AS],
) -> None:
    """Resolve a kit's genotype conflict by keeping the stored or the new result."""
    from pebs.services.laboratory import resolve_genotype_conflict

    resolved = _run(user, lambda sessions, actor, keys: resolve_genotype_conflict(
        sessions, actor, keys, kit_id, keep=keep, reason=reason))  # fmt: skip
    changed = len(resolved.superseded) + len(resolved.rejected)
    level = f"; her new risk level: {resolved.risk_level}" if resolved.risk_level else ""
    typer.echo(
        f"pebs: kit {kit_id}: kept the {resolved.kept} result "
        f"({changed} other result(s) set aside){level}"
    )
