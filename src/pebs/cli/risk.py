"""``pebs risk ...``: risk models on files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pebs.cli import assess, prs
from pebs.cli._console import report_rows, stderr_console, with_progress
from pebs.risk import gail
from pebs.services import example_cohort, gail_scoring

app = typer.Typer(help="Risk models: score files of women.", no_args_is_help=True)
app.command("prs")(prs.prs_command)
app.command("assess")(assess.assess_command)

_INPUT_HELP = (
    "CSV with BCRA's columns T1,T2,N_Biop,HypPlas,AgeMen,Age1st,N_Rels,Race; "
    "other columns are carried through unchanged."
)


@app.command("gail")
def gail_command(
    input_csv: Annotated[Path, typer.Argument(help=_INPUT_HELP)],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output CSV (default: standard output).")
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="Rows per chunk; memory grows with it.")
    ] = 200_000,
) -> None:
    """NCI BCRAT (Gail model) risk for every row: adds abs_risk_pct, avg_risk_pct (percent),
    rr_under_50, rr_50_plus and error (empty when the row is valid)."""
    console = stderr_console()
    summary = with_progress(
        console,
        input_csv,
        "scoring",
        lambda on_progress: gail_scoring.score_gail_csv(
            input_csv, output, chunk_rows=chunk_rows, on_progress=on_progress
        ),
    )
    _report(summary, console, note=" (reason in the 'error' column)")


def _report(summary: gail_scoring.ScoringSummary, console, note: str = "") -> None:
    report_rows(
        console, n_rows=summary.n_rows, n_done=summary.n_scored, done="scored",
        rejected_by_reason=summary.rejected_by_reason, note=note,
    )  # fmt: skip


def _pct(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


@app.command("example")
def example_command() -> None:
    """Score the bundled synthetic example cohort and print a summary by age band."""
    summary = example_cohort.summarise_example_cohort()
    table = Table(
        title=f"{gail.MODEL_NAME}: bundled synthetic cohort of {summary.scoring.n_rows:,} women",
        caption=(
            "Risks in percent. Five-year window [age, age+5); lifetime = to age 90. "
            f"'>= {example_cohort.HIGH_RISK_PCT}%' is the NCI tool's increased-risk threshold. "
            "BCRAT was developed on US women."
        ),
    )
    for header in (
        "age", "women", "mean 5-yr", "median 5-yr", "average woman 5-yr",
        f"% of women >= {example_cohort.HIGH_RISK_PCT}%", "mean lifetime",
    ):  # fmt: skip
        table.add_column(header, justify="right")
    for band in summary.bands:
        table.add_row(
            band.label,
            f"{band.n_women:,}",
            _pct(band.mean_5y_pct),
            _pct(band.median_5y_pct),
            _pct(band.mean_average_5y_pct),
            _pct(band.share_high_pct, 1),
            _pct(band.mean_lifetime_pct, 1),
            end_section=band.label.endswith("+"),
        )
    console = Console()
    console.print(table)
    _report(summary.scoring, console)
    console.print("Score your own file: pebs risk gail INPUT.csv -o OUTPUT.csv", highlight=False)
