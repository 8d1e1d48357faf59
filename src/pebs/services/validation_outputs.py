"""Files of a validation run (``pebs validate -o DIR``) and its JSON document.

- ``summary.json``: :func:`report_document` (NaN and infinities written as null);
- ``eo_by_age.csv``, ``eo_by_decile.csv``: :func:`calibration_rows`, one row per model and group;
- ``reclassification.csv`` (with a comparison): :func:`reclassification_rows`, one row per
  (reference level, new level) cell;
- ``calibration.png`` / ``calibration.svg``: :mod:`pebs.reports.validation_plots`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pebs import __version__
from pebs.io.errors import FileAccessError
from pebs.io.sim_outputs import write_json, write_rows_csv
from pebs.risk import gail, personalised
from pebs.services.validation import (
    FOLLOW_UP_RULE,
    HORIZON_YEARS,
    ModelComparison,
    ModelValidation,
    ValidationReport,
)


def _finite(value):
    """JSON-ready: numpy scalars to Python, NaN and infinities to None (null)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def calibration_rows(report: ValidationReport, grouping: str) -> list[dict[str, object]]:
    """Rows of ``eo_by_age.csv`` (``grouping="by_age"``) or ``eo_by_decile.csv``."""
    rows = []
    for v in report.models:
        for row in getattr(v, grouping).rows():
            rows.append({"model": v.model, **row})
    return rows


def reclassification_rows(comparison: ModelComparison) -> list[dict[str, object]]:
    """Rows of ``reclassification.csv``: one per (reference level, new level) cell."""
    table = comparison.reclassification
    rows = []
    for i, ref_level in enumerate(personalised.LEVELS):
        for j, new_level in enumerate(personalised.LEVELS):
            rows.append({
                f"level_{comparison.reference}": ref_level,
                f"level_{comparison.new}": new_level,
                "n_women": int(table.n_women[i, j]),
                "n_events": int(table.events[i, j]),
                "n_non_events": int(table.non_events[i, j]),
                f"mean_risk_5y_{comparison.reference}": comparison.mean_risk_reference[i, j],
                f"mean_risk_5y_{comparison.new}": comparison.mean_risk_new[i, j],
            })  # fmt: skip
    return rows


def _model_document(v: ModelValidation) -> dict:
    c = v.c_statistic
    return {
        "label": v.label,
        "version": personalised.MODEL_VERSION if v.model == "personalised" else gail.MODEL_VERSION,
        "n_scored": v.n_scored,
        "n_rejected": v.n_rejected,
        "rejected_by_reason": v.rejected_by_reason,
        "expected": v.overall.expected,
        "observed": v.overall.observed,
        "eo_ratio": v.overall.ratio,
        "eo_lower": v.overall.lower,
        "eo_upper": v.overall.upper,
        "c_statistic": None if c is None else {
            "estimate": c.estimate, "std_error": c.std_error, "lower": c.lower,
            "upper": c.upper, "n_events": c.n_events, "n_non_events": c.n_non_events,
        },
        "levels": v.levels,
        "by_age": v.by_age.rows(),
        "by_decile": v.by_decile.rows(),
    }  # fmt: skip


def report_document(report: ValidationReport) -> dict:
    """The JSON document of ``summary.json`` (NaN and infinities as null)."""
    document = {
        "pebs_version": __version__,
        "source": str(report.source),
        "country": report.country,
        "horizon_years": HORIZON_YEARS,
        "confidence": 0.95,
        "follow_up_rule": FOLLOW_UP_RULE,
        "cohort": {
            "n_rows": report.n_rows,
            "n_events": report.n_events,
            "n_events_after_horizon": report.n_events_after_horizon,
            "n_short_follow_up": report.n_short_follow_up,
        },
        "models": {v.model: _model_document(v) for v in report.models},
        "notes": list(report.notes),
    }
    comparison = report.comparison
    if comparison is not None:
        table, auc = comparison.reclassification, comparison.auc
        document["comparison"] = {
            "new": comparison.new, "reference": comparison.reference,
            "n_women": comparison.n_women, "n_events": comparison.n_events,
            "auc_difference": None if auc is None else {
                "auc_new": auc.auc_a, "auc_reference": auc.auc_b, "difference": auc.difference,
                "std_error": auc.std_error, "lower": auc.lower, "upper": auc.upper, "z": auc.z,
                "p_value": auc.p_value, "correlation": auc.correlation,
            },
            "nri": {
                "events": table.nri_events, "non_events": table.nri_non_events,
                "total": table.nri, "std_error_events": table.std_error_events,
                "std_error_non_events": table.std_error_non_events,
                "std_error": table.std_error, "lower": table.lower, "upper": table.upper,
                "z": table.z, "p_value": table.p_value,
            },
            "reclassification": reclassification_rows(comparison),
        }  # fmt: skip
    return _finite(document)


def write_validation_outputs(report: ValidationReport, directory: Path) -> tuple[Path, ...]:
    """Write ``summary.json``, ``eo_by_age.csv``, ``eo_by_decile.csv``, ``reclassification.csv``
    (with a comparison) and ``calibration.png`` / ``.svg`` into ``directory``; return the paths.
    """
    from pebs.reports.validation_plots import write_calibration_plot

    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"{directory}: cannot create ({error.strerror})") from None
    files = [
        write_json(directory / "summary.json", report_document(report)),
        write_rows_csv(directory / "eo_by_age.csv", calibration_rows(report, "by_age")),
        write_rows_csv(directory / "eo_by_decile.csv", calibration_rows(report, "by_decile")),
    ]
    if report.comparison is not None:
        rows = reclassification_rows(report.comparison)
        files.append(write_rows_csv(directory / "reclassification.csv", rows))
    curves = {f"{v.model}: {v.label}": (v.by_decile, v.by_age) for v in report.models}
    title = f"{report.source.name}: {report.n_rows:,} women, {report.country}"
    try:
        files.extend(write_calibration_plot(curves, directory, title=title))
    except OSError as error:
        raise FileAccessError(f"{directory}: cannot write the plots ({error})") from None
    return tuple(files)
