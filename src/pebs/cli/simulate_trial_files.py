"""``pebs simulate SCENARIO --trial-files -o DIR``: a simulated trial as the files of
``pebs import``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from pebs.services.simulated_trial import TrialFiles, TrialFilesOptions, write_trial_files


def write_trial_files_command(
    scenario: str, directory: Path, *, study: str, women: int | None, seed: int,
    chunk_size: int | None, console: Console,
) -> TrialFiles:  # fmt: skip
    """Write the import files and print, per arm, the women and stage II+ cancers of the
    records beside the simulator's own totals, and what the files could not hold (exit 1 if
    the records and the totals disagree)."""
    extra = {} if chunk_size is None else {"chunk_size": chunk_size}
    options = TrialFilesOptions(study=study, n_women=women, seed=seed, **extra)
    done = write_trial_files(scenario, directory, options)
    typer.echo(f"pebs: {done.scenario}: {done.n_women:,} women written as import files for {study}")
    for arm, tally in done.records.items():
        own = done.simulator[arm]
        typer.echo(
            f"  {arm}: {tally.women:,} randomised, {tally.stage_2_plus:,} with AJCC stage II+ "
            f"(simulator: {own['n_women']:,}, {own['stage2plus']:,}); {tally.diagnoses:,} "
            f"diagnoses, {tally.deaths:,} deaths"
        )
    typer.echo(f"  screen failures (a cancer found before entry): {done.screen_failures:,}")
    typer.echo(f"  visits: {done.n_visits:,}; diagnoses: {done.n_diagnoses:,}")
    for title, items in (("not written", done.not_written), ("written as", done.written_as)):
        for item, n in sorted(items.items()):
            typer.echo(f"  {title}: {item}: {n:,}")
    agrees = "agree" if done.agrees else "DO NOT agree"
    console.print(f"pebs: the records {agrees} with the simulator's totals; wrote {directory}")
    if not done.agrees:
        raise typer.Exit(1)
    return done
