"""Randomisation quality by simulation with fixed seeds.

Each test prints what it measured (run ``pytest -s tests/trial/test_randomisation_quality.py``);
``docs/trial/randomisation.md`` records the figures. Expected values come from the design (the
imbalance bounds), from probability (binomial and chi-square tolerances, p-values computed with
the closed forms below and checked against published critical values), and from enumerating
every arrangement of a block (the guessing rate), never from the generator's own output.

Statistical tests use a two-sided 0.1% level: with fixed seeds a test either always passes or
always fails, and 0.1% keeps the chance that a correct generator fails on the chosen seed small
while still catching real bias (a sampler that favoured one arrangement by a few percent fails
at these sample sizes).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest

from pebs.trial import BlockDesign, generate_list

SEED = 20240601
N_STRATA = 100
LENGTH = 1_000
ALPHA = 0.001
Z_ALPHA = 3.2905  # two-sided 0.1% standard normal quantile


def chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution, closed forms for whole ``df``."""
    half = x / 2
    if df % 2 == 0:
        return math.exp(-half) * sum(half**i / math.factorial(i) for i in range(df // 2))
    tail = math.erfc(math.sqrt(half))
    return tail + math.exp(-half) * sum(
        half ** (i - 0.5) / math.gamma(i + 0.5) for i in range(1, (df - 1) // 2 + 1)
    )


@pytest.mark.parametrize(
    ("x", "df", "p"),
    # Upper critical values of the chi-square distribution (NIST/SEMATECH e-Handbook of
    # Statistical Methods, section 1.3.6.7.4).
    [(10.828, 1, 0.001), (3.841, 1, 0.05), (13.816, 2, 0.001), (5.991, 2, 0.05),
     (20.515, 5, 0.001), (11.070, 5, 0.05), (43.820, 19, 0.001), (30.144, 19, 0.05)],
)  # fmt: skip
def test_chi2_helper_matches_published_critical_values(x, df, p):
    assert chi2_sf(x, df) == pytest.approx(p, rel=2e-3)


def chi_square(observed: dict, expected: dict) -> tuple[float, int, float]:
    x = sum((observed.get(k, 0) - e) ** 2 / e for k, e in expected.items())
    df = len(expected) - 1
    return x, df, chi2_sf(x, df)


@pytest.fixture(scope="module")
def simulated():
    lengths = {f"Q{i:03d}:40-49": LENGTH for i in range(N_STRATA)}
    return generate_list(lengths, SEED)


def signed_steps(arms):
    return np.where(np.asarray(arms) == "standard", 1, -1)


def test_imbalance_never_exceeds_half_the_largest_block_and_is_zero_at_block_ends(simulated):
    bound = max(simulated.design.block_sizes) // 2
    worst, at_ends = 0, []
    for stratum in simulated.strata:
        imbalance = np.cumsum(signed_steps(stratum.arms))  # (n_slots,) standard minus risk-based
        worst = max(worst, int(np.abs(imbalance).max()))
        ends = [
            i
            for i, (a, b) in enumerate(itertools.pairwise(stratum.slots))
            if a.block_number != b.block_number
        ] + [len(stratum.slots) - 1]
        at_ends.extend(imbalance[ends].tolist())
    print(
        f"\nmax |imbalance| {worst} (bound {bound}); {len(at_ends)} block ends, "
        f"max |imbalance| there {max(map(abs, at_ends))}"
    )
    assert worst <= bound
    assert worst == bound  # a 6-block starting with three of one arm: the bound is reached
    assert set(at_ends) == {0}


def block_sizes_of(allocation_list):
    sizes = []
    for stratum in allocation_list.strata:
        starts = {}
        for slot in stratum.slots:
            starts.setdefault(slot.block_number, slot.block_size)
        sizes.extend(list(starts.values())[:-1])
    return sizes


@pytest.mark.parametrize("probabilities", [None, (0.2, 0.5, 0.3)])
def test_block_sizes_follow_the_configured_distribution(probabilities):
    # The last block of each stratum crosses the requested length, which favours long blocks
    # (inspection paradox); it is left out.
    design = BlockDesign(block_probabilities=probabilities)
    lengths = {f"Q{i:03d}:50-59": LENGTH for i in range(N_STRATA)}
    sizes = block_sizes_of(generate_list(lengths, SEED + 1, design))
    counts = Counter(sizes)
    expected = {
        s: p * len(sizes)
        for s, p in zip(design.block_sizes, design.block_probabilities, strict=True)
    }
    x, df, p = chi_square(counts, expected)
    shares = {s: round(counts[s] / len(sizes), 4) for s in design.block_sizes}
    print(
        f"\n{len(sizes)} blocks, shares {shares} vs {design.block_probabilities}; "
        f"chi-square {x:.2f} on {df} df, p = {p:.3f}"
    )
    assert p > ALPHA


@pytest.mark.parametrize("size", [4, 6])
def test_every_arrangement_of_a_block_is_equally_likely(simulated, size):
    arrangements = Counter()
    for stratum in simulated.strata:
        for _, block in itertools.groupby(stratum.slots, key=lambda s: s.block_number):
            block = list(block)
            if block[0].block_size == size:
                arrangements[tuple(s.arm for s in block)] += 1
    possible = {
        tuple("standard" if i in chosen else "risk-based" for i in range(size))
        for chosen in itertools.combinations(range(size), size // 2)
    }
    assert set(arrangements) == possible  # only balanced blocks, and all of them occur
    n = sum(arrangements.values())
    x, df, p = chi_square(arrangements, dict.fromkeys(possible, n / len(possible)))
    print(
        f"\nblocks of {size}: {n} blocks, {len(possible)} arrangements, chi-square {x:.2f} "
        f"on {df} df, p = {p:.3f}"
    )
    assert p > ALPHA


def test_first_allocation_of_a_block_is_a_fair_coin(simulated):
    firsts = [
        s.arm
        for st in simulated.strata
        for s in st.slots
        if s.position == 1 or s.block_number != st.slots[s.position - 2].block_number
    ]
    n, k = len(firsts), firsts.count("standard")
    z = (k - n / 2) / math.sqrt(n / 4)
    print(f"\nfirst slot of {n} blocks: {k} standard ({k / n:.4f}), z = {z:.2f}")
    assert abs(z) < Z_ALPHA


def test_overall_ratio_when_recruitment_stops_mid_block(simulated):
    # Each stratum recruits a different number of women, as in a real trial, so most strata stop
    # inside a block. Binomial tolerance: under simple randomisation the number of standard
    # allocations among N has SD sqrt(N)/2; blocked lists must do at least as well, and no stratum
    # can contribute more than half the largest block.
    recruited = np.random.default_rng(SEED + 2).integers(1, LENGTH + 1, size=N_STRATA)
    standard = total = 0
    for stratum, n in zip(simulated.strata, recruited, strict=True):
        arms = stratum.arms[:n]
        standard += arms.count("standard")
        total += len(arms)
    excess = standard - total / 2
    tolerance = Z_ALPHA * math.sqrt(total) / 2
    print(
        f"\n{total} women in {N_STRATA} strata: {standard} standard ({standard / total:.5f}); "
        f"excess {excess:+.1f}; binomial 0.1% tolerance +-{tolerance:.1f}; "
        f"block bound +-{3 * N_STRATA}"
    )
    assert abs(excess) <= tolerance
    assert abs(excess) <= 3 * N_STRATA
    all_arms = [arm for st in simulated.strata for arm in st.arms]
    assert all_arms.count("standard") * 2 == len(all_arms)  # whole lists are exactly 1:1


def expected_correct_guesses(size: int) -> float:
    """Mean correct guesses in a balanced block of ``size`` (1:1) for a guesser who knows the
    past allocations and always names the arm that is behind (half a guess when tied), by
    enumerating every arrangement."""
    total = 0.0
    arrangements = list(itertools.combinations(range(size), size // 2))
    for chosen in arrangements:
        difference = 0
        for i in range(size):
            arm = 1 if i in chosen else -1
            total += 0.5 if difference == 0 else float(arm == (1 if difference < 0 else -1))
            difference += arm
    return total / len(arrangements)


def test_guessing_rate_matches_theory(simulated):
    # Blackwell & Hodges (Ann Math Stat 1957;28:449-460): m + 2**(2m-1)/C(2m, m) - 1/2 correct
    # guesses in a block of 2m; the enumeration agrees with the formula.
    for m in (1, 2, 3):
        formula = m + 2 ** (2 * m - 1) / math.comb(2 * m, m) - 0.5
        assert expected_correct_guesses(2 * m) == pytest.approx(formula)
    design = simulated.design
    expected = sum(
        p * expected_correct_guesses(s)
        for s, p in zip(design.block_sizes, design.block_probabilities, strict=True)
    ) / sum(p * s for s, p in zip(design.block_sizes, design.block_probabilities, strict=True))
    rates = []
    for stratum in simulated.strata:
        steps = signed_steps(stratum.arms)
        before = np.concatenate([[0], np.cumsum(steps)[:-1]])  # imbalance before each slot
        correct = np.where(before == 0, 0.5, (np.sign(before) == -steps).astype(float))
        rates.append(correct.mean())
    measured = float(np.mean(rates))
    standard_error = float(np.std(rates, ddof=1) / math.sqrt(len(rates)))
    print(
        f"\nconvergence-strategy guessing: {measured:.4f} correct (theory {expected:.4f}, "
        f"SE {standard_error:.4f}); 0.5 would be no information"
    )
    assert abs(measured - expected) < Z_ALPHA * standard_error
