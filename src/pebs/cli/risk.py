"""``pebs risk ...``: risk models on files."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pebs.cli._console import report_rows, stderr_console, with_progress
from pebs.cli._lazy_group import LazyCommand, lazy_group

if TYPE_CHECKING:
    from pebs.risk import cards
    from pebs.services import gail_scoring

COMMANDS = (
    LazyCommand(
        "prs",
        "pebs.cli.prs:prs_command",
        "Polygenic risk score of every sample: sample, raw_score (sum of dosage x weight),\n"
        "z_score, n_variants, n_matched, n_missing, n_imputed. Variants are matched by chromosome "
        "and\nposition (GRCh37 for PGS000004) with their alleles checked; missing or mismatched "
        "variants\nstop the run unless --impute-missing is given.",
    ),
    LazyCommand(
        "assess",
        "pebs.cli.assess:assess_command",
        "Personalised five-year risk (open model: BCRAT factors + PRS313 + BI-RADS density,\n"
        "calibrated to the country) and MyPeBS level: adds risk_5y (proportion), risk_5y_pct, "
        "level,\nrr_classical, rr_prs, rr_density (empty where unknown), model, missing (every "
        "input scored\nas unknown) and error. A row with no classical factor known gets no level.",
    ),
    LazyCommand(
        "pending",
        "pebs.cli.risk_pending:pending_command",
        "Risk-based women whose final risk assessment is pending: what each one waits for\n"
        "(questionnaire, baseline density, PRS with her kit's state), a provisional level, and an\n"
        "automatic assessment held for a clinician.",
    ),
)
"""Sub-commands imported when they run (their modules load the risk models or the database)."""

app = typer.Typer(
    cls=lazy_group(*COMMANDS),
    help="Risk models: score files of women; trial women whose risk is pending.",
    no_args_is_help=True,
)

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
    ] = 100_000,
) -> None:
    """NCI BCRAT (Gail model) risk for every row: adds abs_risk_pct, avg_risk_pct (percent),
    rr_under_50, rr_50_plus and error (empty when the row is valid)."""
    from pebs.services import gail_scoring  # imported when used: a fast CLI start

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
    from pebs.risk import gail
    from pebs.services import example_cohort

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


@app.command("models")
def models_command(
    card_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ID",
            help="A card id (gail, icare, personalised-FR...); "
            "without it, list every shipped model.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the card(s) as JSON.")] = False,
) -> None:
    """Model cards of the shipped risk models: what each is for and not for, its population,
    inputs and missing-value handling, calibration, discrimination and provenance."""
    from pebs.risk import cards

    chosen = cards.list_cards() if card_id is None else (cards.card(card_id),)
    if as_json:
        documents = [cards.as_dict(c) for c in chosen]
        typer.echo(json.dumps(documents if card_id is None else documents[0], indent=2,
                              ensure_ascii=False))  # fmt: skip
    elif card_id is None:
        _print_card_table(chosen)
    else:
        _print_card(chosen[0])


def _print_card_table(shipped: tuple[cards.ModelCard, ...]) -> None:
    table = Table(
        title="Shipped risk models (pebs risk models ID for the whole card)",
        caption="Card text in English. Version = the version written with every result.",
        expand=True,
    )
    table.add_column("id", no_wrap=True)
    for header, ratio in (("name", 3), ("version", 3), ("countries / population", 3),
                          ("intended use", 4)):  # fmt: skip
        table.add_column(header, ratio=ratio, min_width=14)
    for c in shipped:
        table.add_row(*(Text(v) for v in (c.id, c.name, c.version, c.population_short,
                                           c.summary)))  # fmt: skip
    Console(emoji=False, highlight=False).print(table)


def _print_card(c: cards.ModelCard) -> None:
    width = max(60, min(100, shutil.get_terminal_size((100, 24)).columns))
    lines = [c.name, f"id: {c.id}   version: {c.version}   kind: {c.kind}"
             + (f"   country: {c.country}" if c.country else "")]  # fmt: skip

    def para(text: str, indent: str = "", bullet: str = "") -> None:
        lines.append(textwrap.fill(text, width, initial_indent=indent + bullet,
                                   subsequent_indent=indent + " " * len(bullet)))  # fmt: skip

    def section(title: str, items) -> None:
        lines.extend(["", title])
        for item in items:
            para(item, "  ", "- ")

    para(c.summary)
    para(f"Card text language: {c.content_language}. Full documentation: {c.documentation}.")
    section("Intended use", c.intended_use)
    section("Not for", c.not_for)
    section("Population", c.population)
    section("Ages", [_ages_text(c.ages)])
    section("Inputs (units; allowed values; when unknown)", [
        f"{i.name}: {i.description} ({i.units}). Allowed: {i.allowed}. When unknown: {i.missing}"
        for i in c.inputs])  # fmt: skip
    section("Outputs", c.outputs)
    section("Calibration", c.calibration.summary)
    if c.calibration.table:
        para(f"Table: {c.calibration.method}.", "  ")
        lines.append(f"    {'age band':<9} {'E':>10} {'O':>10} {'E/O':>7} {'women':>8}")
        lines.extend(
            f"    {r.band:<9} {r.expected:>10.6f} {r.observed:>10.6f} {r.e_over_o:>7.4f} "
            f"{r.n_women:>8,}" for r in c.calibration.table
        )  # fmt: skip
    section("Discrimination", c.discrimination.summary)
    for f in c.discrimination.figures:
        para(f"{f.metric}: {f.value}; {f.population} ({f.source})", "  ", "- ")
    section("Provenance", c.provenance.parameters)
    para(f"Reference implementation: {c.provenance.reference_implementation}", "  ", "- ")
    para(f"Exactness: {c.provenance.exactness}", "  ", "- ")
    section("Limitations", c.limitations)
    section("References", c.references)
    typer.echo("\n".join(lines))


def _ages_text(ages: cards.AgeRange) -> str:
    if ages.from_age is None and ages.below_age is None:
        return ages.note
    return f"{ages.from_age} <= age < {ages.below_age}. {ages.note}"
