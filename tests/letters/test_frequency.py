"""The natural-frequency rule, against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from pebs.letters.frequency import NaturalFrequency, natural_frequency


@pytest.mark.parametrize(
    ("proportion", "expected"),
    [
        # 2.56 in 100 rounds to 3 in 100
        (0.0256, NaturalFrequency(3, 100)),
        # 0.5 in 100 is the smallest that rounds (half up) to 1 in 100
        (0.005, NaturalFrequency(1, 100)),
        # 0.49 in 100 rounds to 0 in 100, so per 1,000: 4.9 rounds to 5
        (0.0049, NaturalFrequency(5, 1000)),
        # 14.5 in 100 (written 0.145) rounds half up to 15, not down as 0.145 * 100 in binary would
        (0.145, NaturalFrequency(15, 100)),
        # 2.5 in 100 rounds half up to 3
        (0.025, NaturalFrequency(3, 100)),
        # 2.49 in 100 rounds down to 2
        (0.0249, NaturalFrequency(2, 100)),
        # 0.5 in 1,000 is the smallest that gives 1 in 1,000
        (0.0005, NaturalFrequency(1, 1000)),
        # 0.49 in 1,000 would be "0 in 1,000": said as fewer than 1 in 1,000
        (0.00049, NaturalFrequency(1, 1000, fewer_than=True)),
        (0.0, NaturalFrequency(1, 1000, fewer_than=True)),
        (1.0, NaturalFrequency(100, 100)),
        # 9.96 in 100 rounds to 10 in 100
        (0.0996, NaturalFrequency(10, 100)),
    ],
)
def test_hand_worked_values(proportion: float, expected: NaturalFrequency) -> None:
    assert natural_frequency(proportion) == expected


@pytest.mark.parametrize("bad", [-0.01, 1.01, math.nan, "0.02", None])
def test_refuses_what_is_not_a_proportion(bad: object) -> None:
    with pytest.raises(ValueError, match="proportion"):
        natural_frequency(bad)  # type: ignore[arg-type]


def test_never_says_zero() -> None:
    for thousandths in range(0, 1001):
        frequency = natural_frequency(thousandths / 100_000)
        assert frequency.count >= 1
