"""A policy in plain words, for clinicians reviewing it (``pebs policy show``)."""

from __future__ import annotations

from pebs.screening.policy import Policy

_MODALITY_WORDS = {
    "mammography": "mammography",
    "tomosynthesis": "tomosynthesis",
    "mri": "MRI",
    "ultrasound": "ultrasound",
    "clinical_examination": "clinical breast examination",
}


def _interval(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return "every year" if years == 1 else f"every {years} years"
    return f"every {months} months"


def describe_policy(policy: Policy) -> list[str]:
    """Lines of text describing every rule of ``policy``."""
    lines = [
        f"{policy.name}: {policy.title}",
        f"  kind: {policy.kind}; arm: {policy.arm}"
        + (f"; country: {policy.country}" if policy.country else ""),
        f"  source: {policy.source}",
    ]
    if policy.levels:
        lines.append(f"  risk levels: {', '.join(policy.levels)}")
    if policy.notes:
        lines.append(f"  notes: {policy.notes}")
    lines.append(f"  exam window: {policy.window_months} months from the due date")
    lines.append("  rules:")
    for rule in policy.rules:
        what = " + ".join(_MODALITY_WORDS[m] for m in rule.modalities)
        extra = f", first one {rule.offset_months} months later" if rule.offset_months else ""
        stream = f" [stream {rule.stream}]" if rule.stream != "main" else ""
        lines.append(
            f"  - {rule.id}: ages {rule.start_age} to {rule.stop_age - 1}, {what} "
            f"{_interval(rule.every_months)}{extra}; for {rule.conditions.describe()}{stream}"
        )
        lines.append(f"      told: {rule.reason}")
    for entry in policy.no_screening:
        lines.append(
            f"  - no routine screening: ages {entry.start_age} to {entry.stop_age - 1} for "
            f"{entry.conditions.describe()}"
        )
        lines.append(f"      told: {entry.reason}")
    if policy.study is not None:
        study = policy.study
        what = " + ".join(_MODALITY_WORDS[m] for m in study.end_of_study)
        lines.append(
            f"  study: the plan covers {study.years} years; end-of-study {what}; routine exams due "
            f"less than {study.absorb_months} months before it are replaced by it"
        )
        lines.append(f"      told: {study.end_of_study_reason}")
    return lines
