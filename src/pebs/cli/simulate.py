"""``pebs simulate``: run a screening microsimulation scenario and write its outputs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from pebs.cli._console import stderr_console
from pebs.services.simulation import (
    DEFAULT_SEED,
    DEFAULT_WOMEN,
    SimulationOptions,
    SimulationRun,
    run_simulation,
    scenario_catalogue,
)

SHOWN = (
    ("visits", "screening visits"),
    ("false_positives", "false positives"),
    ("screen_detected", "screen-detected"),
    ("interval_cancers", "interval cancers"),
    ("overdiagnosed", "overdiagnosed"),
    ("advanced_cancers", "advanced cancers"),
    ("stage2plus", "AJCC stage II+"),
    ("bc_deaths", "BC deaths"),
    ("deaths_averted", "deaths averted"),
    ("life_years_gained", "life-years gained"),
)
"""Outcomes printed per 1,000 women (all of them are in summary.csv)."""
_OUTPUT_HELP = "Output directory [default: $PEBS_DATA_DIR/simulations/<scenario>]."
_TRIAL_FILES_HELP = (
    "Trial scenarios: write the trial as the files of pebs import (women.csv, visits.csv, "
    "diagnoses.csv, trial_files.json) to -o DIR instead of the summary."
)
_WOMEN_HELP = f"Women per replicate [default: the trial's size, or {DEFAULT_WOMEN:,}]."


def _list_scenarios() -> None:
    table = Table("name", "strategies (no-screening is the reference)", "trial", "title")
    for info in scenario_catalogue():
        table.add_row(info.name, ", ".join(info.strategies[1:]),
                      "yes" if info.is_trial else "", info.title)  # fmt: skip
    Console().print(table)


def _default_output(scenario: str) -> Path:
    from pebs.cli.db import load_settings

    return load_settings().data_dir / "simulations" / Path(scenario).stem


def _cell(values, digits: int) -> str:
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    mean = float(values.mean())
    if values.size < 2 or math.isclose(low, high, rel_tol=1e-9, abs_tol=1e-9):
        return f"{mean:,.{digits}f}"
    return f"{mean:,.{digits}f} ({_pct(values, 2.5):,.{digits}f}-{_pct(values, 97.5):,.{digits}f})"


def _pct(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def _stdout_console(n_strategies: int) -> Console:
    """Standard output; when it is not a terminal, wide enough for one line per outcome."""
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 26 + 28 * n_strategies)
    return console


def _print_result(done: SimulationRun, console: Console) -> None:
    result = done.result
    interval = " (2.5-97.5 % over replicates)" if result.n_replicates > 1 else ""
    table = Table(
        "outcome per 1,000 women", *result.strategies,
        title=f"{done.scenario.name}: {result.n_women:,} women x {result.n_replicates} "
        f"replicate(s), seed {result.seed}{interval}",
    )  # fmt: skip
    for outcome, label in SHOWN:
        digits = 0 if outcome == "visits" else 1
        table.add_row(
            label, *(_cell(result.per_1000(s, outcome), digits) for s in result.strategies)
        )
    console.print(table)
    if done.trial is not None:
        trial = done.trial
        console.print(
            f"trial {trial.arms[1]} vs {trial.arms[0]}: advanced cancers per 100,000 "
            f"{trial.per_100k[:, 1].mean():.0f} vs {trial.per_100k[:, 0].mean():.0f}; "
            f"non-inferiority (margin {trial.margin:g}) concluded in "
            f"{trial.noninferior.sum()} of {trial.noninferior.size} replicate(s) "
            f"(power {trial.power:.2f})",
            highlight=False,
        )


def simulate_command(
    scenario: Annotated[
        str | None,
        typer.Argument(
            help="A shipped scenario name (--list) or a .toml file; or 'calibrate' followed by a "
            "targets file (or the shipped 'europe') to fit the free parameters."
        ),
    ] = None,
    targets: Annotated[
        str | None,
        typer.Argument(help="With 'calibrate': the targets file or shipped name (europe)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help=_OUTPUT_HELP),
    ] = None,
    women: Annotated[
        int | None,
        typer.Option(min=1, help=_WOMEN_HELP),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Run seed.")] = DEFAULT_SEED,
    replicates: Annotated[
        int, typer.Option(min=1, help="Independent replicates (Monte Carlo intervals).")
    ] = 1,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Start a local Dask cluster of N worker processes.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Use a running Dask scheduler (tcp://host:8786).")
    ] = None,
    chunk_size: Annotated[
        int | None, typer.Option(min=1, help="Women per chunk (does not change the results).")
    ] = None,
    records: Annotated[
        bool, typer.Option("--records", help="Also write per-woman Parquet (women/).")
    ] = False,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Write the PNG/SVG plots.")
    ] = True,
    list_: Annotated[
        bool, typer.Option("--list", help="List the shipped scenarios and exit.")
    ] = False,
    trial_files: Annotated[bool, typer.Option("--trial-files", help=_TRIAL_FILES_HELP)] = False,
    study: Annotated[
        str, typer.Option(help="With --trial-files: the study the files are for.")
    ] = "mypebs-demo",
    evaluations: Annotated[
        int, typer.Option(min=5, help="With 'calibrate': objective evaluations per fit round.")
    ] = 150,
) -> None:
    """Simulate a scenario's screening strategies; write summary.csv/json, plots and records.

    ``pebs simulate calibrate TARGETS`` fits the simulator's free parameters to the calibration
    targets of TARGETS instead and writes the parameter set and its fit table.
    """
    if list_:
        _list_scenarios()
        return
    if scenario is None:
        raise typer.BadParameter("give a scenario name or file (see --list)", param_hint="SCENARIO")
    if scenario == "calibrate":
        if targets is None:
            raise typer.BadParameter("give a targets file or 'europe'", param_hint="TARGETS")
        _calibrate(targets, output, women or 100_000, seed, workers, evaluations)
        return
    if targets is not None:
        raise typer.BadParameter(
            f"unexpected second argument {targets!r}: only 'calibrate' takes a targets file",
            param_hint="TARGETS",
        )
    if trial_files:
        _trial_files(scenario, output, study, women, seed, replicates, workers, scheduler,
                     chunk_size, records)  # fmt: skip
        return
    if workers is not None and scheduler is not None:
        raise typer.BadParameter("use --workers or --scheduler, not both", param_hint="--workers")
    options = SimulationOptions(
        n_women=women, seed=seed, replicates=replicates, chunk_size=chunk_size,
        workers=workers, scheduler=scheduler, records=records, plots=plots,
    )  # fmt: skip
    directory = output if output is not None else _default_output(scenario)
    console = stderr_console()
    done = _run_with_progress(console, scenario, directory, options)
    _print_result(done, _stdout_console(len(done.result.strategies)))
    total = done.result.n_women * done.result.n_replicates
    console.print(
        f"pebs: {total:,} women x {len(done.result.strategies)} strategies simulated in "
        f"{done.wall_seconds:.1f} s ({done.women_per_second:,.0f} women/s; {done.engine})"
    )
    if done.cluster_start_seconds or done.cluster_close_seconds:
        console.print(
            f"pebs: cluster started in {done.cluster_start_seconds:.1f} s and closed in "
            f"{done.cluster_close_seconds:.1f} s (not counted in the simulation time)"
        )
    console.print(f"pebs: wrote {len(done.files)} outputs to {directory}")
    for path in done.files:
        console.print(f"  {path.name}{'/' if path.is_dir() else ''}")


def _trial_files(scenario, output, study, women, seed, replicates, workers, scheduler,
                 chunk_size, records) -> None:  # fmt: skip
    from pebs.cli.simulate_trial_files import write_trial_files_command

    refused = {"--replicates": replicates != 1, "--workers": workers is not None,
               "--scheduler": scheduler is not None, "--records": records}  # fmt: skip
    for name, given in refused.items():
        if given:
            raise typer.BadParameter("not with --trial-files (one replicate, in this process)",
                                     param_hint=name)  # fmt: skip
    if output is None:
        raise typer.BadParameter("give the folder of the files (-o DIR)", param_hint="--output")
    write_trial_files_command(scenario, output, study=study, women=women, seed=seed,
                              chunk_size=chunk_size, console=stderr_console())  # fmt: skip


def _run_with_progress(console: Console, scenario: str, directory: Path, options):
    if not console.is_terminal:
        return run_simulation(scenario, directory, options)
    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("women"),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("simulating", total=None)
        return run_simulation(
            scenario, directory, options,
            on_progress=lambda n, total: progress.update(task, completed=n, total=total),
        )  # fmt: skip


def _calibrate(targets_name, output, women, seed, workers, evaluations) -> None:
    """``pebs simulate calibrate``: fit, then write parameters.toml, fit.csv and fit.json."""
    from concurrent.futures import ProcessPoolExecutor

    from pebs.sim.fit import calibrate, fit_rows, write_outputs
    from pebs.sim.targets import TargetError, load_targets

    console = stderr_console()
    try:
        target_set = load_targets(targets_name)
    except TargetError as exc:
        raise typer.BadParameter(str(exc), param_hint="TARGETS") from exc
    directory = output if output is not None else _default_output("calibration")
    pool = ProcessPoolExecutor(workers) if workers and workers > 1 else None
    try:
        result = calibrate(
            target_set, n_women=women, seed=seed, max_evaluations=evaluations,
            incidence_women=max(women, 20_000), map_chunks=pool.map if pool else map,
            progress=lambda message: console.print(f"pebs: {message}", highlight=False),
        )  # fmt: skip
    finally:
        if pool is not None:
            pool.shutdown()
    paths = write_outputs(result, target_set, directory, f"calibrated-{target_set.name}")
    table = Table("target", "kind", "figure", "interval", "model", "z", "inside")
    for row in fit_rows(result, target_set):
        table.add_row(row["id"], row["kind"], f"{row['target']:g}",
                      f"{row['low']:g}-{row['high']:g}", f"{row['model']:.4g}",
                      "" if row["z"] is None else f"{row['z']:+.2f}",
                      "yes" if row["inside"] else "no")  # fmt: skip
    _stdout_console(3).print(table)
    estimates = ", ".join(
        f"{k} {v:.4g} (SE {result.standard_errors[k]:.2g})" for k, v in result.estimates.items()
    )
    console.print(
        f"pebs: objective {result.objective_start:.2f} -> {result.objective_end:.2f} in "
        f"{result.evaluations} evaluations; estimates: {estimates}",
        highlight=False,
    )
    console.print(f"pebs: wrote {', '.join(str(p) for p in paths)}")
