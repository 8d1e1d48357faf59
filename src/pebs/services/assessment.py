"""Batch assessment with the personalised five-year model (``pebs risk assess``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pebs.io.assessment_csv import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, parse_assessment_table
from pebs.io.csv_table import atomic_text_output, read_csv_chunks, write_csv_chunk
from pebs.io.errors import FileAccessError, InputFormatError
from pebs.risk import personalised
from pebs.services import prs_scoring

OUTPUT_COLUMNS = (
    "risk_5y", "risk_5y_pct", "level", "rr_classical", "rr_prs", "rr_density", "model",
    "missing", "error",
)  # fmt: skip


@dataclass
class AssessmentSummary:
    """Every row is assessed or counted as rejected; missing inputs and levels are counted."""

    country: str = ""
    n_rows: int = 0
    n_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    n_missing_prs: int = 0
    n_missing_density: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    genotypes: str = ""
    """What matching ids to VCF samples did (empty without --genotypes)."""

    @property
    def n_assessed(self) -> int:
        return self.n_rows - self.n_rejected

    def add(self, result: personalised.PersonalisedResult) -> None:
        valid = result.is_valid
        self.n_rows += valid.size
        self.n_rejected += int(np.count_nonzero(~valid))
        for flag, reason in personalised.model.REASONS.items():
            count = int(np.count_nonzero(result.error & flag))
            if count:
                self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + count
        self.n_missing_prs += int(np.count_nonzero(result.missing_prs & valid))
        self.n_missing_density += int(np.count_nonzero(result.missing_density & valid))
        names, counts = np.unique(result.level[valid].astype(str), return_counts=True)
        for name, count in zip(names, counts, strict=True):
            self.levels[str(name)] = self.levels.get(str(name), 0) + int(count)


def genotype_scores(vcf_path: Path) -> dict[str, float]:
    """PRS313 z-score per VCF sample (PGS000004, CanRisk European normalisation)."""
    run = prs_scoring.score_vcf(Path(vcf_path), prs_scoring.load_score("PGS000004"))
    names = run.result.sample_names
    return dict(zip(names, run.result.z_scores.tolist(), strict=True))


def assess_csv(
    input_path: Path,
    output_path: Path | None,
    *,
    country: str,
    genotypes: Path | None = None,
    chunk_rows: int = 100_000,
    on_progress: Callable[[int], None] | None = None,
) -> AssessmentSummary:
    """Assess every row of an assessment file (columns in :mod:`pebs.io.assessment_csv`).

    With ``genotypes``, each row's PRS is the z-score of the VCF sample named like its ``id``
    (rows without a sample get a missing PRS, counted); the file must then have no ``prs_z``
    column. The output appears only when every row has been assessed.
    """
    input_path = Path(input_path)
    if output_path is not None and Path(output_path).resolve() == input_path.resolve():
        raise FileAccessError(f"{output_path}: the output would overwrite the input file")
    model = personalised.country_model(country.upper())
    scores = genotype_scores(genotypes) if genotypes is not None else None
    summary = AssessmentSummary(country=model.country)
    model_label = f"{personalised.MODEL_ID} v{personalised.MODEL_VERSION} {model.country}"
    n_matched = 0
    chunks = read_csv_chunks(input_path, (), chunk_rows, text_columns=REQUIRED_COLUMNS)
    with atomic_text_output(output_path) as stream:
        for i, chunk in enumerate(chunks):
            table = chunk.table
            if i == 0:
                _check_columns(table.columns, input_path, with_genotypes=scores is not None)
            arguments = parse_assessment_table(table, input_path, chunk.first_line)
            if scores is not None:
                prs = table["id"].map(scores).to_numpy(dtype=np.float64, na_value=np.nan)
                n_matched += int(np.count_nonzero(~np.isnan(prs)))
                arguments["prs_z"] = prs
            result = personalised.assess(model, **arguments)
            summary.add(result)
            columns = {
                "risk_5y": result.risk_5y,
                "risk_5y_pct": result.risk_5y_pct,
                "level": result.level,
                "rr_classical": result.rr_classical,
                "rr_prs": result.rr_prs,
                "rr_density": result.rr_density,
                "model": np.full(len(table), model_label, dtype=object),
                "missing": np.where(result.is_valid, result.missing(), ""),
                "error": result.reasons(),
            }
            write_csv_chunk(table.assign(**columns), stream, header=i == 0)
            if on_progress is not None:
                on_progress(chunk.bytes_read)
    if scores is not None:
        summary.genotypes = (
            f"{n_matched:,} of {summary.n_rows:,} rows matched a sample of {genotypes} "
            f"({len(scores):,} samples); unmatched rows have a missing PRS"
        )
    return summary


def _check_columns(columns, path: Path, *, with_genotypes: bool) -> None:
    clashing = [c for c in OUTPUT_COLUMNS if c in columns]
    if clashing:
        raise InputFormatError(
            f"{path}: already has output column(s) {', '.join(clashing)}; rename or remove them"
        )
    if with_genotypes and OPTIONAL_COLUMNS[0] in columns:
        raise InputFormatError(
            f"{path}: has a prs_z column and --genotypes was given; use one source of PRS"
        )
