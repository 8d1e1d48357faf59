"""``pebs risk assess``: personalised five-year risk and MyPeBS level for a file of women."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pebs.cli._console import report_rows, stderr_console, with_progress
from pebs.io import assessment_csv as spelling
from pebs.risk.country import available_countries
from pebs.risk.personalised import LEVELS
from pebs.services import assessment

_INPUT_HELP = (
    "CSV with columns id, age, n_biopsies, atypical_hyperplasia (yes/no), age_menarche, "
    f"age_first_birth (years or {spelling.NULLIPAROUS_SPELLINGS[0]!r}), "
    "n_first_degree_relatives, density (BI-RADS a-d) and optionally prs_z. Unknown (she does not "
    f"know) = one of {', '.join(repr(s) for s in spelling.EXPLICIT_UNKNOWN)}, or an empty field "
    "(unless --strict). Other columns are carried through unchanged."
)


def assess_command(
    input_csv: Annotated[Path, typer.Argument(help=_INPUT_HELP)],
    country: Annotated[
        str,
        typer.Option(
            "--country",
            "-c",
            help=f"Calibrate to this country: {', '.join(available_countries())}.",
        ),
    ],
    genotypes: Annotated[
        Path | None,
        typer.Option(help="VCF of the women's genotypes; PRS313 z-scores matched by id."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output CSV (default: standard output).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="An empty field is not answered (absent), not unknown: the row gets no level "
            "and its error names the empty fields (counted; the run completes). Write 'unknown' "
            "where she does not know.",
        ),
    ] = False,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="Rows per chunk; memory grows with it.")
    ] = 100_000,
) -> None:
    """Personalised five-year risk (open model: BCRAT factors + PRS313 + BI-RADS density,
    calibrated to the country) and MyPeBS level: adds risk_5y (proportion), risk_5y_pct, level,
    rr_classical, rr_prs, rr_density (empty where unknown), model, missing (every input scored
    as unknown) and error. A row with no classical factor known gets no level."""
    console = stderr_console()
    summary = with_progress(
        console,
        input_csv,
        "assessing",
        lambda on_progress: assessment.assess_csv(
            input_csv,
            output,
            country=country,
            genotypes=genotypes,
            strict=strict,
            chunk_rows=chunk_rows,
            on_progress=on_progress,
        ),
    )
    report_rows(
        console, n_rows=summary.n_rows, n_done=summary.n_assessed, done="assessed",
        rejected_by_reason=summary.rejected_by_reason, note=" (reason in the 'error' column)",
    )  # fmt: skip
    levels = ", ".join(f"{name} {summary.levels.get(name, 0):,}" for name in LEVELS)
    console.print(f"pebs: levels ({summary.country}): {levels}", highlight=False)
    unknown = ", ".join(
        f"{name} {summary.unknown_by_input.get(name, 0):,}" for name in spelling.INPUT_COLUMNS
    )
    console.print(
        f"pebs: unknown inputs of assessed rows (risk from the missing-covariate rule): {unknown}",
        highlight=False,
    )
    if summary.genotypes:
        console.print(f"pebs: {summary.genotypes}", highlight=False)
