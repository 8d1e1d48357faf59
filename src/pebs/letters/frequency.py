"""A risk as a natural frequency: "about 3 in 100 women like you".

People understand a risk better as a count of people out of a fixed group than as a percent or
a probability (Gigerenzer G, Hoffrage U. How to improve Bayesian reasoning without instruction:
frequency formats. *Psychol Rev* 1995;102(4):684-704; Akl EA et al. Using alternative statistical
formats for presenting risks and risk reductions. *Cochrane Database Syst Rev* 2011;(3):CD006776,
where natural frequencies were understood better than percents). A letter gives both: the
natural frequency in words, then the percent.

The rule (one group size for every woman, so that two letters can be compared):

- the proportion is multiplied by 100 and rounded half up (on its shortest decimal form, so that
  0.145 is 14.5, not 14.4999...), giving "about N in 100" when N is at least 1;
- otherwise (under 0.5 in 100) it is multiplied by 1,000 and rounded the same way, giving
  "about N in 1,000" when N is at least 1;
- otherwise (under 0.5 in 1,000, including 0) "fewer than 1 in 1,000": never "0 in ...", which
  would read as "no risk".

>>> natural_frequency(0.0256)
NaturalFrequency(count=3, denominator=100, fewer_than=False)
>>> natural_frequency(0.004), natural_frequency(0.0001).fewer_than
(NaturalFrequency(count=4, denominator=1000, fewer_than=False), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["DENOMINATORS", "NaturalFrequency", "natural_frequency"]

DENOMINATORS = (100, 1000)
"""Group sizes, tried in order: the first that gives a count of at least 1 is used."""


@dataclass(frozen=True)
class NaturalFrequency:
    """``count`` women in ``denominator`` (or fewer than ``count`` if ``fewer_than``)."""

    count: int
    denominator: int
    fewer_than: bool = False


def natural_frequency(proportion: float) -> NaturalFrequency:
    """The natural frequency of a risk given as a proportion (0.0256 for 2.56 %).

    Raises
    ------
    ValueError
        If ``proportion`` is not a number in [0, 1].
    """
    if not isinstance(proportion, int | float) or not 0.0 <= proportion <= 1.0:
        raise ValueError(f"proportion {proportion!r} is not a number in [0, 1]")
    exact = Decimal(repr(float(proportion)))
    for denominator in DENOMINATORS:
        count = int((exact * denominator).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if count >= 1:
            return NaturalFrequency(count, denominator)
    return NaturalFrequency(1, DENOMINATORS[-1], fewer_than=True)
