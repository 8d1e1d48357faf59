"""Batch assessment with the personalised five-year model (``pebs risk assess``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from pebs.io.assessment_csv import (
    INPUT_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    empty_fields,
    parse_assessment_table,
)
from pebs.io.csv_table import CsvChunk
from pebs.io.errors import InputFormatError
from pebs.risk import personalised
from pebs.services.batch_scoring import RowCounts, map_csv, refuse_overwrite

OUTPUT_COLUMNS = (
    "risk_5y", "risk_5y_pct", "level", "rr_classical", "rr_prs", "rr_density", "model",
    "missing", "error",
)  # fmt: skip
STRICT_REASON = "empty field(s) with --strict: not answered (write 'unknown' if she does not know)"
"""The summary's reason for rows refused by ``--strict``; their ``error`` names the fields."""


@cache
def _labels() -> np.ndarray:
    """ "a;b" text of every subset of :data:`INPUT_COLUMNS`, indexed by its bit pattern."""
    names = INPUT_COLUMNS
    return np.array(
        [";".join(n for bit, n in enumerate(names) if code >> bit & 1) for code in range(1 << 7)],
        dtype=object,
    )


def _joined(mask: np.ndarray) -> np.ndarray:
    """Per row, the names of :data:`INPUT_COLUMNS` where ``mask`` (n, 7) is True, ";"-joined."""
    codes = mask.astype(np.int64) @ (1 << np.arange(len(INPUT_COLUMNS), dtype=np.int64))
    return _labels()[codes]


@dataclass
class AssessmentSummary(RowCounts):
    """Every row is assessed or counted as rejected; unknown inputs and levels are counted."""

    country: str = ""
    unknown_by_input: dict[str, int] = field(default_factory=dict)
    """Assessed rows with each input unknown (scored by the missing-covariate rule)."""
    levels: dict[str, int] = field(default_factory=dict)
    genotypes: str = ""
    """What matching ids to VCF samples did (empty without --genotypes)."""

    @property
    def n_assessed(self) -> int:
        return self.n_rows - self.n_rejected

    @property
    def n_missing_prs(self) -> int:
        return self.unknown_by_input.get("prs_z", 0)

    @property
    def n_missing_density(self) -> int:
        return self.unknown_by_input.get("density", 0)

    def add(
        self, result: personalised.PersonalisedResult, absent: np.ndarray | None = None
    ) -> None:
        """Count a chunk; ``absent`` (n, 7) marks empty fields refused by ``--strict``."""
        refused = np.zeros(result.error.size, dtype=bool) if absent is None else absent.any(axis=1)
        assessed = result.is_valid & ~refused
        self.count(~assessed, result.error, personalised.model.REASONS)
        self.add_reason(STRICT_REASON, int(np.count_nonzero(refused)))
        unknown = result.unknown  # (n, 7), computed on each access
        for j, name in enumerate(personalised.INPUTS):
            count = int(np.count_nonzero(unknown[:, j] & assessed))
            if count:
                self.unknown_by_input[name] = self.unknown_by_input.get(name, 0) + count
        names, counts = np.unique(result.level[assessed].astype(str), return_counts=True)
        for name, count in zip(names, counts, strict=True):
            self.levels[str(name)] = self.levels.get(str(name), 0) + int(count)


def genotype_scores(vcf_path: Path) -> dict[str, float]:
    """PRS313 z-score per VCF sample (PGS000004, CanRisk European normalisation)."""
    from pebs.services import prs_scoring  # loads pandas: only with --genotypes

    run = prs_scoring.score_vcf(Path(vcf_path), prs_scoring.load_score("PGS000004"))
    names = run.result.sample_names
    return dict(zip(names, run.result.z_scores.tolist(), strict=True))


def assess_csv(
    input_path: Path,
    output_path: Path | None,
    *,
    country: str,
    genotypes: Path | None = None,
    strict: bool = False,
    chunk_rows: int = 25_000,
    on_progress: Callable[[int], None] | None = None,
) -> AssessmentSummary:
    """Assess every row of an assessment file (columns in :mod:`pebs.io.assessment_csv`).

    An empty field is unknown; with ``strict`` it is absent instead: the row gets no risk and no
    level, its ``error`` names the empty fields, and it is counted as rejected (never dropped).
    The explicit spellings of unknown are unknown in both modes. ``missing`` names every input
    scored as unknown (classical factors, density, PRS; not the absent ones). A row with no
    classical factor known gets no level (the model's rule).

    With ``genotypes``, each row's PRS is the z-score of the VCF sample named like its ``id``
    (rows without a sample get an unknown PRS, counted); the file must then have no ``prs_z``
    column. The output appears only when every row has been assessed.
    """
    input_path = Path(input_path)
    refuse_overwrite(input_path, output_path)  # before the model and the VCF are read
    model = personalised.country_model(country.upper())
    scores = genotype_scores(genotypes) if genotypes is not None else None
    summary = AssessmentSummary(country=model.country)
    model_label = f"{model.id} v{model.version} {model.country}"
    n_matched = 0

    def score(chunk: CsvChunk) -> dict[str, np.ndarray]:
        nonlocal n_matched
        table = chunk.text
        inputs = parse_assessment_table(table, input_path, chunk.first_line)
        if scores is not None:
            ids = table["id"].to_pylist()
            prs = np.array([scores.get(i, np.nan) for i in ids], dtype=np.float64)
            n_matched += int(np.count_nonzero(~np.isnan(prs)))
            inputs = replace(inputs, prs_z=prs)
        result = model.assess(inputs)
        absent = empty_fields(table) if strict else None
        summary.add(result, absent)
        return _columns(result, absent, model_label)

    def check_columns(columns) -> None:
        if scores is not None and OPTIONAL_COLUMNS[0] in columns:
            raise InputFormatError(
                f"{input_path}: has a prs_z column and --genotypes was given; use one source of PRS"
            )

    map_csv(
        input_path, output_path, score, output_columns=OUTPUT_COLUMNS,
        text_columns=REQUIRED_COLUMNS, chunk_rows=chunk_rows, check_columns=check_columns,
        on_progress=on_progress,
    )  # fmt: skip
    if scores is not None:
        summary.genotypes = (
            f"{n_matched:,} of {summary.n_rows:,} rows matched a sample of {genotypes} "
            f"({len(scores):,} samples); unmatched rows have an unknown PRS"
        )
    return summary


def _columns(
    result: personalised.PersonalisedResult, absent: np.ndarray | None, model_label: str
) -> dict[str, np.ndarray]:
    """The output columns of one chunk; rows with absent (``--strict``) fields get no risk."""
    n = result.error.size
    absent = np.zeros((n, len(INPUT_COLUMNS)), dtype=bool) if absent is None else absent
    refused = absent.any(axis=1)
    error = reasons = result.reasons()
    if refused.any():
        strict = np.where(refused, "absent (empty with --strict): " + _joined(absent), "")
        both = refused & (reasons != "")
        error = np.where(both, strict + "; " + reasons, np.where(refused, strict, reasons))
    kept = np.where(refused, np.nan, 1.0)  # NaN where --strict refused the row
    return {
        "risk_5y": result.risk_5y * kept,
        "risk_5y_pct": result.risk_5y_pct * kept,
        "level": np.where(refused, "", result.level),
        "rr_classical": result.rr_classical * kept,
        "rr_prs": result.rr_prs * kept,
        "rr_density": result.rr_density * kept,
        "model": np.full(n, model_label, dtype=object),
        "missing": _joined(result.unknown & ~absent),
        "error": error.astype(object),
    }
