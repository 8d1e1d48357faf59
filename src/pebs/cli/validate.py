"""``pebs validate``: calibration and discrimination of a risk model on a cohort with follow-up."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pebs.cli._console import report_rows, stderr_console, with_progress

_INPUT_HELP = (
    "Cohort CSV: the columns of 'pebs risk assess' (id, age, n_biopsies, atypical_hyperplasia, "
    "age_menarche, age_first_birth, n_first_degree_relatives, density, optional prs_z) plus "
    "follow_up_years (years from the assessment to the diagnosis or the end of follow-up, > 0) "
    "and event (1 = invasive breast cancer at follow_up_years, 0 = none)."
)

_COMPARE_HELP = (
    "Second model scored on the same women, the reference: reclassification table, NRI and "
    "AUC difference."
)
_OUTPUT_HELP = (
    "Directory for summary.json, eo_by_age.csv, eo_by_decile.csv, reclassification.csv and "
    "calibration.png/.svg (default: print only)."
)


class Model(enum.StrEnum):
    """Models that score the cohort columns."""

    personalised = "personalised"
    gail = "gail"


def _interval(value: float, low: float, high: float, digits: int = 2) -> str:
    def text(x: float) -> str:
        return "inf" if x == float("inf") else f"{x:.{digits}f}"

    return f"{text(value)} ({text(low)}-{text(high)})"


def _calibration_table(title: str, first: str, table, *, overall=None) -> Table:
    out = Table(
        first, "women", "5-yr risk %", "expected E", "observed O", "E/O (95% CI)",
        title=title, title_justify="left",
    )  # fmt: skip
    for row in table.rows():
        out.add_row(
            row["group"], f"{row['n_women']:,}", f"{100 * row['mean_risk']:.2f}",
            f"{row['expected']:,.1f}", f"{row['observed']:,}",
            _interval(row["ratio"], row["lower"], row["upper"]),
        )  # fmt: skip
    if overall is not None:
        n_women = int(table.n_women.sum())
        mean_risk = float((table.mean_risk * table.n_women).sum() / n_women)
        out.add_section()
        out.add_row(
            "all", f"{n_women:,}", f"{100 * mean_risk:.2f}", f"{overall.expected:,.1f}",
            f"{overall.observed:,}", _interval(overall.ratio, overall.lower, overall.upper),
        )  # fmt: skip
    return out


def _print_model(console: Console, v) -> None:
    console.print(
        _calibration_table(f"{v.label}: E/O by age band", "age", v.by_age, overall=v.overall)
    )
    console.print(
        _calibration_table(f"{v.label}: E/O by decile of 5-year risk", "decile", v.by_decile)
    )
    c = v.c_statistic
    auc = "not estimable (needs events and non-events)" if c is None else (
        f"{_interval(c.estimate, c.lower, c.upper, 3)} (DeLong; {c.n_events:,} events, "
        f"{c.n_non_events:,} non-events)"
    )  # fmt: skip
    console.print(f"{v.model}: C-statistic {auc}", highlight=False, soft_wrap=True)
    levels = ", ".join(f"{name} {count:,}" for name, count in v.levels.items())
    console.print(f"{v.model}: MyPeBS levels of the 5-year risk: {levels}\n", highlight=False)


def _print_comparison(console: Console, comparison, levels) -> None:
    table = comparison.reclassification
    out = Table(
        f"{comparison.reference} \\ {comparison.new}", *levels, "total",
        title=f"Reclassification: women (events) by MyPeBS level, {comparison.n_women:,} women "
        f"scored by both models", title_justify="left",
    )  # fmt: skip
    for i, level in enumerate(levels):
        cells = [f"{table.n_women[i, j]:,} ({table.events[i, j]:,})" for j in range(len(levels))]
        out.add_row(level, *cells, f"{table.n_women[i].sum():,} ({table.events[i].sum():,})")
    console.print(out)
    console.print(
        f"NRI of {comparison.new} over {comparison.reference}: events "
        f"{table.nri_events:+.4f} (SE {table.std_error_events:.4f}), non-events "
        f"{table.nri_non_events:+.4f} (SE {table.std_error_non_events:.4f}), total "
        f"{table.nri:+.4f} (95% CI {table.lower:+.4f} to {table.upper:+.4f}; z {table.z:.2f}, "
        f"p {table.p_value:.2g})",
        highlight=False,
        soft_wrap=True,
    )
    auc = comparison.auc
    if auc is not None:
        console.print(
            f"AUC {comparison.new} - {comparison.reference}: {auc.auc_a:.3f} - {auc.auc_b:.3f} = "
            f"{auc.difference:+.3f} (95% CI {auc.lower:+.3f} to {auc.upper:+.3f}; DeLong z "
            f"{auc.z:.2f}, p {auc.p_value:.2g})",
            highlight=False,
            soft_wrap=True,
        )


def validate_command(
    cohort_csv: Annotated[Path, typer.Argument(help=_INPUT_HELP)],
    country: Annotated[
        str,
        typer.Option("--country", "-c", help="Country of the cohort (calibrates 'personalised')."),
    ],
    model: Annotated[
        Model, typer.Option("--model", "-m", help="Model to validate.")
    ] = Model.personalised,
    compare: Annotated[Model | None, typer.Option(help=_COMPARE_HELP)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help=_OUTPUT_HELP)] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json on standard output, no tables.")
    ] = False,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows read per chunk.")] = 100_000,
) -> None:
    """Validate a five-year risk model on a cohort with follow-up: E/O with exact Poisson
    intervals overall, by age band and by risk decile; C-statistic (DeLong); with --compare,
    the reclassification table between MyPeBS levels, the NRI and the DeLong test of the AUCs."""
    from pebs.risk.personalised import LEVELS
    from pebs.services import validation, validation_outputs

    if compare is not None and compare == model:
        message = f"must differ from --model ({model.value})"
        raise typer.BadParameter(message, param_hint="--compare")
    console = stderr_console()
    report = with_progress(
        console,
        cohort_csv,
        "validating",
        lambda on_progress: validation.validate_cohort(
            cohort_csv, country=country, model=model.value,
            compare=None if compare is None else compare.value, chunk_rows=chunk_rows,
            on_progress=on_progress,
        ),
    )  # fmt: skip
    for v in report.models:
        report_rows(
            console, n_rows=report.n_rows, n_done=v.n_scored, done=f"scored by {v.model}",
            rejected_by_reason=v.rejected_by_reason, note=" (left out of its statistics)",
        )  # fmt: skip
    counted = report.models[0].overall.observed
    console.print(
        f"pebs: {report.n_events:,} events, {report.n_events_after_horizon:,} of them after 5 "
        f"years (not counted); {report.n_short_follow_up:,} women followed < 5 years; "
        f"{counted:,} events counted for {report.models[0].model}",
        highlight=False,
    )
    for note in report.notes:
        console.print(f"pebs: {note}", highlight=False)
    if as_json:
        typer.echo(json.dumps(validation_outputs.report_document(report), indent=2))
    else:
        out = Console(highlight=False)
        if not out.is_terminal:  # a file or a pipe: wide enough for one line per row
            out.width = max(out.width, 110)
        for v in report.models:
            _print_model(out, v)
        if report.comparison is not None:
            _print_comparison(out, report.comparison, LEVELS)
    if output is not None:
        files = validation_outputs.write_validation_outputs(report, output)
        console.print(f"pebs: wrote {len(files)} files to {output}", highlight=False)
