"""Use case: validate a five-year risk model on a cohort with follow-up (``pebs validate``).

:func:`validate_cohort` reads a cohort file (:mod:`pebs.io.cohort_csv`: the ``pebs risk
assess`` columns plus ``follow_up_years`` and ``event``), scores every woman with the model
(``personalised``: :func:`pebs.risk.personalised.assess` calibrated to the country; ``gail``: NCI
BCRAT with the White coefficients and rates) and, with ``compare``, with a second model. Rows a
model rejects are counted by reason and left out of that model's statistics.

Per model (:mod:`pebs.stats.validation`):

- expected events ``E_i``: the model's risk over ``min(follow_up_years, 5)`` years. BCRAT
  computes it over its own window ``[age, age + min(t, 5))``; the personalised model's window is
  fixed at five whole years, so its five-year risk ``r`` is scaled with a constant hazard,
  ``1 - (1 - r) ** (min(t, 5) / 5)``;
- observed events: ``event == 1`` with ``follow_up_years <= 5`` (later events are not counted);
- E/O with the exact Poisson (Garwood) interval of O: overall, by five-year age band and by
  decile of five-year risk; the C-statistic of the five-year risk with DeLong's interval.

With ``compare``, on the women both models scored: DeLong's test of ``AUC(model) -
AUC(compare)``, the reclassification table between the MyPeBS levels (rows: the ``compare``
model, the reference; columns: ``model``, the new one) and the categorical NRI of ``model`` over
``compare`` with Pencina's standard error. Files: :mod:`pebs.services.validation_outputs`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from pebs.io.assessment_csv import REQUIRED_COLUMNS, parse_assessment_table
from pebs.io.cohort_csv import FOLLOW_UP_COLUMNS, parse_follow_up
from pebs.io.csv_table import read_csv_chunks
from pebs.io.errors import InputFormatError
from pebs.risk import gail, personalised
from pebs.risk.country import country_tables
from pebs.risk.inputs import RiskInputs
from pebs.risk.levels import level_index
from pebs.stats import (
    AucDifference,
    CStatistic,
    ExpectedObserved,
    GroupedCalibration,
    Reclassification,
    age_bands,
    c_statistic,
    compare_c_statistics,
    counted_events,
    expected_observed,
    expected_observed_by_group,
    reclassification,
    risk_groups,
    window_expected,
)

MODELS = ("personalised", "gail")
"""Models ``pebs validate`` can score from the cohort columns."""
HORIZON_YEARS = 5
N_DECILES = 10
FOLLOW_UP_RULE = (
    "E_i = the model's risk over min(follow_up_years, 5) years: BCRAT over its own window "
    "[age, age + min(t, 5)); the personalised model's five-year risk r scaled with a constant "
    "hazard, 1 - (1 - r)^(min(t, 5)/5). O counts events with follow_up_years <= 5."
)
GAIL_REASONS = {
    gail.GailError.T1_OUT_OF_RANGE: "age must be from 20 to 90 (exclusive) for BCRAT",
    gail.GailError.T2_ABOVE_90: "age must be below 85: BCRAT's tables end at 90",
    gail.GailError.HYPPLAS_WITHOUT_BIOPSY: "atypical_hyperplasia 'yes' needs at least one biopsy",
    gail.GailError.HYPPLAS_CODE: "atypical_hyperplasia must be yes, no or unknown",
    gail.GailError.N_BIOP_INVALID: "n_biopsies must be a whole number >= 0, or unknown",
    gail.GailError.AGE_MEN_INVALID: "age_menarche must be > 0 and <= age, or unknown",
    gail.GailError.AGE_1ST_INVALID: (
        "age_first_birth must be between age_menarche and age, 'nulliparous', or unknown"
    ),
    gail.GailError.N_RELS_INVALID: (
        "n_first_degree_relatives must be a whole number from 0 to 98, or unknown"
    ),
}
"""BCRAT's rejection reasons in the cohort file's column names."""


class ValidationOptionsError(ValueError):
    """Options that cannot be used together; the message names the option and allowed values."""


@dataclass(frozen=True)
class ModelScores:
    """One model's scores of every row of the cohort (NaN where the model rejected the row)."""

    model: str
    label: str
    """Model, version (and country) as recorded with the results."""
    risk_5y: np.ndarray
    """Five-year absolute risk, proportion."""
    expected: np.ndarray
    """Expected events over the woman's follow-up window (:data:`FOLLOW_UP_RULE`)."""
    rejected_by_reason: dict[str, int]
    """Rows carrying each reason (a row can carry several)."""

    @property
    def is_scored(self) -> np.ndarray:
        return np.isfinite(self.risk_5y) & np.isfinite(self.expected)


@dataclass(frozen=True)
class ModelValidation:
    """Calibration and discrimination of one model on the women it scored."""

    model: str
    label: str
    n_scored: int
    n_rejected: int
    rejected_by_reason: dict[str, int]
    overall: ExpectedObserved
    by_age: GroupedCalibration
    by_decile: GroupedCalibration
    c_statistic: CStatistic | None
    """None when the scored women have no event, or only events."""
    levels: dict[str, int]
    """Women per MyPeBS level of the five-year risk."""


@dataclass(frozen=True)
class ModelComparison:
    """``model`` (new) against ``compare`` (reference) on the women both scored."""

    new: str
    reference: str
    n_women: int
    n_events: int
    auc: AucDifference | None
    reclassification: Reclassification
    mean_risk_new: np.ndarray
    """(4, 4) mean five-year risk under the new model per cell (NaN for empty cells)."""
    mean_risk_reference: np.ndarray


@dataclass(frozen=True)
class ValidationReport:
    """Everything ``pebs validate`` prints and writes."""

    source: Path
    country: str
    n_rows: int
    n_events: int
    """Rows with ``event == 1`` (at any follow-up)."""
    n_events_after_horizon: int
    """Of those, events after five years (not counted)."""
    n_short_follow_up: int
    """Rows followed for less than five years."""
    models: tuple[ModelValidation, ...]
    """The validated model, then the ``compare`` model if any."""
    comparison: ModelComparison | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def validate_cohort(
    path: Path,
    *,
    country: str,
    model: str = "personalised",
    compare: str | None = None,
    chunk_rows: int = 100_000,
    on_progress: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Score a cohort file with ``model`` (and ``compare``) and compute the validation statistics.

    Raises
    ------
    ValidationOptionsError
        Unknown model name, or ``compare`` equal to ``model``.
    FileAccessError, InputFormatError
        From :mod:`pebs.io`; also when a model scored no row at all.
    ModelInputError
        Unknown country code.
    """
    names = (model,) if compare is None else (model, compare)
    for option, name in zip(("model", "compare"), names, strict=False):
        if name not in MODELS:
            raise ValidationOptionsError(
                f"{option}: unknown model {name!r}; allowed: {', '.join(MODELS)}"
            )
    if compare == model:
        raise ValidationOptionsError(f"compare: must differ from model ({model!r})")
    country = country_tables(country).code
    scorers = {name: _scorer(name, country) for name in names}
    path = Path(path)
    columns: dict[str, list[np.ndarray]] = {"age": [], "follow_up": [], "event": []}
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {n: [] for n in names}
    chunks = read_csv_chunks(
        path, (), chunk_rows, text_columns=(*REQUIRED_COLUMNS, *FOLLOW_UP_COLUMNS)
    )
    for chunk in chunks:
        inputs = parse_assessment_table(chunk.text, path, chunk.first_line)
        follow_up, event = parse_follow_up(chunk.table, path, chunk.first_line)
        columns["age"].append(inputs.age)
        columns["follow_up"].append(follow_up)
        columns["event"].append(event)
        for name, score in scorers.items():
            parts[name].append(score(inputs, follow_up))
        if on_progress is not None:
            on_progress(chunk.bytes_read)
    if not columns["age"]:
        raise InputFormatError(f"{path}: has a header but no rows")
    ages, follow_up, event = (np.concatenate(columns[k]) for k in ("age", "follow_up", "event"))
    counted = counted_events(event, follow_up, horizon_years=HORIZON_YEARS)
    scores = [_gather(name, country, parts[name]) for name in names]
    validations = tuple(_validate_model(s, ages, counted, path) for s in scores)
    comparison = _compare(scores[0], scores[1], counted) if compare is not None else None
    notes = []
    for v in validations:
        if v.c_statistic is None:
            notes.append(f"{v.model}: no C-statistic (needs events and non-events)")
    if comparison is not None and comparison.auc is None:
        notes.append("comparison: no AUC difference (needs events and non-events)")
    return ValidationReport(
        source=path,
        country=country,
        n_rows=int(ages.size),
        n_events=int(event.sum()),
        n_events_after_horizon=int(np.count_nonzero((event == 1) & (follow_up > HORIZON_YEARS))),
        n_short_follow_up=int(np.count_nonzero(follow_up < HORIZON_YEARS)),
        models=validations,
        comparison=comparison,
        notes=tuple(notes),
    )


_Scorer = Callable[[RiskInputs, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _scorer(name: str, country: str) -> _Scorer:
    """``score(inputs, follow_up) -> (risk_5y, expected, error flags)`` for one chunk."""
    if name == "personalised":
        fitted = personalised.country_model(country)

        def score(inputs: RiskInputs, follow_up: np.ndarray):
            result = fitted.assess(inputs)
            ok = result.is_valid & np.isfinite(result.risk_5y)
            expected = np.full(ok.size, np.nan)
            if ok.any():
                expected[ok] = window_expected(
                    result.risk_5y[ok], follow_up[ok], horizon_years=HORIZON_YEARS
                )
            return np.where(ok, result.risk_5y, np.nan), expected, result.error.astype(np.int64)

        return score

    def score_gail(inputs: RiskInputs, follow_up: np.ndarray):
        factors = {
            f.name: getattr(inputs, f.name) for f in fields(inputs)
            if f.name not in ("density", "prs_z")
        }  # fmt: skip
        age = factors["age"]
        five = gail.risk(**factors, race=1, projection_age=age + HORIZON_YEARS)
        window = gail.risk(
            **factors, race=1, projection_age=age + np.minimum(follow_up, HORIZON_YEARS)
        )
        ok = five.is_valid & window.is_valid
        return (
            np.where(ok, five.absolute_risk, np.nan),
            np.where(ok, window.absolute_risk, np.nan),
            (five.error | window.error).astype(np.int64),
        )

    return score_gail


def _model_label(name: str, country: str) -> str:
    if name == "personalised":
        return f"{personalised.MODEL_ID} v{personalised.MODEL_VERSION} {country}"
    return "NCI BCRAT (Gail model), White, US rates"


def _reasons(name: str, error: np.ndarray) -> dict[str, int]:
    if name == "personalised":
        flags = [(int(f), personalised.describe(int(f))) for f in personalised.AssessmentError]
    else:
        flags = [(int(f), GAIL_REASONS.get(f) or gail.describe(int(f))) for f in gail.GailError]
    counts: dict[str, int] = {}
    for flag, reason in flags:
        count = int(np.count_nonzero(error & flag))
        if count:
            counts[reason] = counts.get(reason, 0) + count
    return counts


def _unscored_reasons(name: str, risk: np.ndarray, error: np.ndarray) -> dict[str, int]:
    """Reasons of the rows without a risk; a row without a flag is counted on its own."""
    unscored = ~np.isfinite(risk)
    counts = _reasons(name, np.where(unscored, error, 0))
    unflagged = int(np.count_nonzero(unscored & (error == 0)))
    if unflagged:
        counts["the model gave no risk"] = unflagged
    return counts


def _gather(name: str, country: str, parts) -> ModelScores:
    risk, expected, error = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return ModelScores(
        model=name,
        label=_model_label(name, country),
        risk_5y=risk,
        expected=expected,
        rejected_by_reason=_unscored_reasons(name, risk, error),
    )


def _validate_model(
    scores: ModelScores, ages: np.ndarray, counted: np.ndarray, path: Path
) -> ModelValidation:
    scored = scores.is_scored
    n_scored = int(scored.sum())
    if n_scored == 0:
        reasons = "; ".join(f"{n:,} x {r}" for r, n in scores.rejected_by_reason.items())
        raise InputFormatError(f"{path}: no row could be scored by {scores.model} ({reasons})")
    risk, expected, events = scores.risk_5y[scored], scores.expected[scored], counted[scored]
    bands, band_labels = age_bands(ages[scored])
    deciles = risk_groups(risk, min(N_DECILES, n_scored))
    decile_labels = tuple(str(d + 1) for d in range(min(N_DECILES, n_scored)))
    has_both = 0 < int(events.sum()) < n_scored
    levels = personalised.risk_level(risk)
    return ModelValidation(
        model=scores.model,
        label=scores.label,
        n_scored=n_scored,
        n_rejected=int(scored.size - n_scored),
        rejected_by_reason=scores.rejected_by_reason,
        overall=expected_observed(expected, events),
        by_age=expected_observed_by_group(expected, events, bands, band_labels, risks=risk),
        by_decile=expected_observed_by_group(expected, events, deciles, decile_labels, risks=risk),
        c_statistic=c_statistic(risk, events) if has_both else None,
        levels={name: int(np.count_nonzero(levels == name)) for name in personalised.LEVELS},
    )


def _compare(new: ModelScores, reference: ModelScores, counted: np.ndarray) -> ModelComparison:
    both = new.is_scored & reference.is_scored
    if not both.any():
        raise InputFormatError(f"no woman was scored by both {new.model} and {reference.model}")
    events = counted[both]
    risk_new, risk_ref = new.risk_5y[both], reference.risk_5y[both]
    k = len(personalised.LEVELS)
    level_new = level_index(risk_new).astype(np.intp)  # both scored: no NaN, no -1
    level_ref = level_index(risk_ref).astype(np.intp)
    table = reclassification(level_ref, level_new, events, n_categories=k)
    cells = level_ref * k + level_new
    n_cell = np.bincount(cells, minlength=k * k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_new = np.bincount(cells, weights=risk_new, minlength=k * k) / n_cell
        mean_ref = np.bincount(cells, weights=risk_ref, minlength=k * k) / n_cell
    has_both = 0 < int(events.sum()) < events.size
    return ModelComparison(
        new=new.model,
        reference=reference.model,
        n_women=int(both.sum()),
        n_events=int(events.sum()),
        auc=compare_c_statistics(risk_new, risk_ref, events) if has_both else None,
        reclassification=table,
        mean_risk_new=mean_new.reshape(k, k),
        mean_risk_reference=mean_ref.reshape(k, k),
    )
