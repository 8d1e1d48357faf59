"""Quality control from the study's rules, at its thresholds (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from pebs.services.errors import InvalidInput
from pebs.services.laboratory.quality import check_file, quality_control, required_calls
from pebs.trial.samples import LabRules


@pytest.mark.parametrize(
    ("rate", "n", "needed"),
    [(0.95, 313, 298), (0.96, 25, 24), (0.96, 313, 301), (1.0, 313, 313), (0.0, 313, 0)],
)
def test_required_calls_is_the_least_whole_number_meeting_the_rate(rate, n, needed) -> None:
    # needed / n >= rate and (needed - 1) / n < rate, in exact fractions of the rate's decimals
    assert required_calls(LabRules(min_call_rate=rate), n) == needed


def test_samples_pass_from_the_required_calls_up() -> None:
    rules = LabRules(min_call_rate=0.96, max_imputed=16)
    qc = quality_control(rules, np.array([313, 301, 300, 0]), 0, 313)
    assert qc.passed.tolist() == [True, True, False, False]
    assert qc.call_rate.tolist() == [1.0, 301 / 313, 300 / 313, 0.0]
    assert qc.reasons[:2] == (None, None)
    assert "300 of 313 variants called" in qc.reasons[2]


def test_a_file_missing_more_variants_than_may_be_imputed_is_refused() -> None:
    rules = LabRules(min_call_rate=0.5, max_imputed=2)
    check_file(rules, "PGS000004", 313, ("a", "b"))
    with pytest.raises(InvalidInput, match="3 absent: a, b, c") as refused:
        check_file(rules, "PGS000004", 313, ("a", "b", "c"))
    assert refused.value.field == "file"


def test_a_file_carrying_too_few_variants_for_any_sample_is_refused() -> None:
    rules = LabRules(min_call_rate=0.95, max_imputed=100)
    check_file(rules, "PGS000004", 313, tuple(str(i) for i in range(15)))  # 298 carried
    with pytest.raises(InvalidInput, match="carries 297 of the 313"):
        check_file(rules, "PGS000004", 313, tuple(str(i) for i in range(16)))
