"""Screening policies (readable TOML files) and the planner that turns them into dated exams.

See ``docs/policies.md``. :func:`load_policy` reads a shipped policy by name or a file by path;
:func:`plan` gives a woman's exams with their reasons.
"""

from pebs.screening.calendar import add_months, age_on, birthday
from pebs.screening.planner import (
    DEFAULT_PLAN_YEARS,
    Exam,
    Plan,
    PlanError,
    Woman,
    default_arm,
    plan,
)
from pebs.screening.policy import (
    MODALITIES,
    Policy,
    PolicyError,
    Rule,
    load_policy,
    parse_policy,
    shipped_policies,
)
from pebs.screening.vectorised import CompiledPolicy, NextExam, compile_policy, next_exam

__all__ = [
    "DEFAULT_PLAN_YEARS",
    "MODALITIES",
    "CompiledPolicy",
    "Exam",
    "NextExam",
    "Plan",
    "PlanError",
    "Policy",
    "PolicyError",
    "Rule",
    "Woman",
    "add_months",
    "age_on",
    "birthday",
    "compile_policy",
    "default_arm",
    "load_policy",
    "next_exam",
    "parse_policy",
    "plan",
    "shipped_policies",
]
