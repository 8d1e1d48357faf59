"""``pebs risk prs``: polygenic risk scores for every sample of a VCF file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pebs.cli._console import stderr_console, with_progress
from pebs.risk import prs
from pebs.services import prs_scoring

_LISTED = 20
"""Variants listed one by one on stderr; the rest are counted."""


def _normalisation(mean: float | None, sd: float | None) -> prs.Normalisation | None:
    if (mean is None) != (sd is None):
        raise typer.BadParameter("give both --mean and --sd, or neither", param_hint="--mean/--sd")
    if mean is None or sd is None:
        return None
    if not sd > 0:
        raise typer.BadParameter(f"must be > 0, got {sd}", param_hint="--sd")
    return prs.Normalisation(mean=mean, sd=sd, source="--mean and --sd on the command line")


def _check_score_options(score: str | None, scoring_file: Path | None) -> None:
    if score is not None and scoring_file is not None:
        raise typer.BadParameter(
            "use --score or --scoring-file, not both", param_hint="--score/--scoring-file"
        )
    if score is not None and score not in prs_scoring.packaged_scores():
        raise typer.BadParameter(
            f"unknown score {score!r}; packaged scores: {', '.join(prs_scoring.packaged_scores())}"
            " (or give a file with --scoring-file)",
            param_hint="--score",
        )


def _list(console: Console, title: str, items: tuple[str, ...]) -> None:
    for item in items[:_LISTED]:
        console.print(f"  {title}: {item}")
    if len(items) > _LISTED:
        console.print(f"  ... and {len(items) - _LISTED} more {title}")


def _report(run: prs_scoring.PrsRun, console: Console) -> None:
    """Account for every variant: matched, not in the VCF, or with mismatched alleles."""
    score = run.scoring.score
    build = f", {score.genome_build}" if score.genome_build else ""
    console.print(
        f"pebs: {score.name} ({run.n_variants:,} variants{build}): {run.n_samples:,} samples "
        f"scored; {run.n_matched_variants:,} variants matched, {len(run.not_found):,} not in the "
        f"VCF, {len(run.mismatched):,} with mismatched alleles",
        highlight=False,
    )
    _list(console, "not in the VCF", run.not_found)
    _list(console, "mismatched", run.mismatched)
    if run.n_imputed:
        n_samples_imputed = int((run.result.n_imputed > 0).sum())
        console.print(
            f"pebs: imputed the expected dosage 2f for {run.n_imputed:,} genotypes in "
            f"{n_samples_imputed:,} samples (column n_imputed)"
        )
    normalisation = run.result.normalisation
    if normalisation is None:
        console.print(
            f"pebs: z_score left empty: no standardisation constants for {score.name}; "
            "give --mean and --sd"
        )
    else:
        console.print(
            f"pebs: z_score = (raw_score - {normalisation.mean!r}) / {normalisation.sd!r} "
            f"({normalisation.source})",
        )


def prs_command(
    genotypes: Annotated[
        Path,
        typer.Argument(help="VCF file (plain, gzip or bgzip) with GT, or DS, for every sample."),
    ],
    score: Annotated[
        str | None,
        typer.Option(
            "--score",
            help=f"Score shipped with pebs: {', '.join(prs_scoring.packaged_scores())} "
            f"(default: {prs_scoring.DEFAULT_SCORE}, PRS313).",
        ),
    ] = None,
    scoring_file: Annotated[
        Path | None,
        typer.Option(
            "--scoring-file", help="PGS Catalog scoring file (format 2.0, plain or gzip)."
        ),
    ] = None,
    impute_missing: Annotated[
        bool,
        typer.Option(
            "--impute-missing",
            help="Give missing variants and genotypes the expected dosage 2f (f: effect-allele "
            "frequency of the scoring file) and count them; default: stop with an error.",
        ),
    ] = False,
    mean: Annotated[
        float | None, typer.Option(help="Mean of the raw score for z_score (with --sd).")
    ] = None,
    sd: Annotated[
        float | None, typer.Option(help="Standard deviation of the raw score (with --mean).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output CSV (default: standard output).")
    ] = None,
) -> None:
    """Polygenic risk score of every sample: sample, raw_score (sum of dosage x weight),
    z_score, n_variants, n_matched, n_missing, n_imputed. Variants are matched by chromosome and
    position (GRCh37 for PGS000004) with their alleles checked; missing or mismatched variants
    stop the run unless --impute-missing is given."""
    _check_score_options(score, scoring_file)
    normalisation = _normalisation(mean, sd)
    console = stderr_console()
    options = {
        "score": score, "scoring_file": scoring_file, "impute_missing": impute_missing,
        "normalisation": normalisation,
    }  # fmt: skip
    run = with_progress(
        console,
        genotypes,
        "scoring",
        lambda on_progress: prs_scoring.score_vcf_to_csv(
            genotypes, output, on_progress=on_progress, **options
        ),
    )
    _report(run, console)
