"""Quality control of each sample of a genotype batch, from the study's ``[laboratory]`` rules.

Over the score's ``n`` variants, a sample has ``called`` genotypes, ``no_call`` genotypes missing
at variants the file carries (``./.``) and ``imputed`` variants absent from the file (the same
for every sample): ``called + no_call + imputed = n``. It passes when

- its call rate ``called / n`` is at least ``min_call_rate`` (a proportion), that is when
  ``called >= ceil(min_call_rate * n)`` (a rounding error below 1e-9 is forgiven, so that a
  rate written as 0.96 accepts 24 of 25), and
- at most ``max_imputed`` variants are imputed.

Both missing kinds are scored at the population mean dosage ``2 f``
(:mod:`pebs.risk.prs`). A file whose variants let no sample pass (too many absent: a wrong
genome build or panel) is refused as a whole (:func:`check_file`), so that a file problem never
marks every sample failed.

>>> from pebs.trial.samples import LabRules
>>> required_calls(LabRules(min_call_rate=0.96), 25), required_calls(LabRules(), 313)
(24, 298)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pebs.services.errors import InvalidInput
from pebs.trial.samples import LabRules

__all__ = ["QualityControl", "check_file", "quality_control", "required_calls"]

_ROUNDING = 1e-9


def required_calls(rules: LabRules, n_variants: int) -> int:
    """The fewest called variants of ``n_variants`` that meet ``rules.min_call_rate``."""
    return max(0, math.ceil(rules.min_call_rate * n_variants - _ROUNDING))


@dataclass(frozen=True)
class QualityControl:
    """Each sample's call rate and verdict."""

    call_rate: np.ndarray
    """Called / score variants, a proportion, shape (n_samples,)."""
    passed: np.ndarray
    """Bool, shape (n_samples,)."""
    reasons: tuple[str | None, ...]
    """Why each sample failed (``None`` when it passed)."""


def quality_control(
    rules: LabRules, n_called: np.ndarray, n_imputed: int, n_variants: int
) -> QualityControl:
    """Apply ``rules`` to samples with ``n_called`` genotypes (shape (n_samples,)) when
    ``n_imputed`` of the ``n_variants`` score variants are absent from the file."""
    n_called = np.asarray(n_called, dtype=np.int64)
    needed = required_calls(rules, n_variants)
    call_rate = n_called / n_variants
    too_few = n_called < needed
    too_many_imputed = n_imputed > rules.max_imputed
    reasons: list[str | None] = []
    for called, low in zip(n_called.tolist(), too_few.tolist(), strict=True):
        problems = []
        if low:
            problems.append(
                f"call rate {called / n_variants:.4f} ({called} of {n_variants} variants "
                f"called) is below the study's minimum {rules.min_call_rate:g} (at least "
                f"{needed} called)"
            )
        if too_many_imputed:
            problems.append(
                f"{n_imputed} of {n_variants} variants absent from the file (imputed); the "
                f"study allows at most {rules.max_imputed}"
            )
        reasons.append("; ".join(problems) or None)
    passed = ~too_few & (not too_many_imputed)
    return QualityControl(call_rate, passed, tuple(reasons))


def check_file(rules: LabRules, score_id: str, n_variants: int, absent: tuple[str, ...]) -> None:
    """:class:`InvalidInput` (field ``file``) when the variants the file carries let no sample
    pass: fewer than the required calls, or more absent variants than may be imputed."""
    carried = n_variants - len(absent)
    needed = required_calls(rules, n_variants)
    if carried >= needed and len(absent) <= rules.max_imputed:
        return
    shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
    raise InvalidInput(
        f"the file carries {carried} of the {n_variants} variants of {score_id} ({len(absent)} "
        f"absent: {shown}), so no sample can pass quality control (at least {needed} called, "
        f"at most {rules.max_imputed} imputed); check the file's genome build and panel; "
        "nothing was stored",
        field="file",
    )
