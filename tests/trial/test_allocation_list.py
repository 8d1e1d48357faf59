"""Allocation lists: the documented algorithm re-implemented independently, byte-identical
regeneration, per-stratum independence, the canonical text and its SHA-256, verification."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

from pebs.trial import (
    ALGORITHM,
    ALGORITHM_VERSION,
    AllocationList,
    AllocationListError,
    BlockDesign,
    fresh_seed,
    generate_list,
    generate_stratum,
    parse_list,
    verify_list,
)

STRATA = ("FR-PA:40-49", "FR-PA:50-59", "IT-TO:60-70")


def reference_arms(seed, label, length, arms, ratio, sizes, probabilities):
    """The algorithm of docs/trial/randomisation.md, written from the text with plain Python:
    (block size, arms) per block, whole blocks until at least ``length`` slots."""
    words = hashlib.sha256(label.encode("utf-8")).digest()
    key = [int.from_bytes(words[4 * i : 4 * i + 4], "big") for i in range(8)]
    bits = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key))

    def word():
        return int(bits.random_raw())

    def below(n):
        while True:
            w = word()
            if w < 2**64 - (2**64 % n):
                return w % n

    blocks, total = [], 0
    while total < length:
        u = (word() >> 11) / 2**53
        running, size = 0.0, sizes[-1]
        for s, p in zip(sizes, probabilities, strict=True):
            running += p
            if u < running:
                size = s
                break
        block = []
        for arm, r in zip(arms, ratio, strict=True):
            block += [arm] * (r * size // sum(ratio))
        for i in range(size - 1, 0, -1):
            j = below(i + 1)
            block[i], block[j] = block[j], block[i]
        blocks.append((size, block))
        total += size
    return blocks


@pytest.mark.parametrize(
    ("design", "seed", "label"),
    [
        (BlockDesign(), 1, "FR-PA:40-49"),
        (BlockDesign(), 2**127 + 12345, "IL-HA:60-70"),
        (BlockDesign(block_probabilities=(0.2, 0.5, 0.3)), 777, "UK-MA:50-59"),
        (BlockDesign(arms=("a", "b", "c"), ratio=(2, 1, 1), block_sizes=(4, 8)), 3, "X"),
    ],
)
def test_lists_follow_the_documented_algorithm(design, seed, label):
    expected = reference_arms(
        seed, label, 300, design.arms, design.ratio, design.block_sizes,
        design.block_probabilities,
    )  # fmt: skip
    slots = generate_stratum(label, 300, seed, design).slots
    assert [s.arm for s in slots] == [arm for _, block in expected for arm in block]
    assert [s.block_size for s in slots] == [size for size, block in expected for _ in block]
    numbers = [n for n, (_, block) in enumerate(expected, start=1) for _ in block]
    assert [s.block_number for s in slots] == numbers
    assert [s.position for s in slots] == list(range(1, len(slots) + 1))


def reference_text(seed, lengths):
    """The canonical text of docs/trial/randomisation.md built from :func:`reference_arms`."""
    probabilities = (1 / 3, 1 / 3, 1 / 3)
    lines = [
        "# pebs allocation list",
        "# algorithm: pebs-permuted-blocks-random-size",
        "# algorithm_version: 1",
        f"# seed: {seed}",
        "# arms: standard,risk-based",
        "# ratio: 1:1",
        "# block_sizes: 2,4,6",
        "# block_probabilities: 0.3333333333333333,0.3333333333333333,0.3333333333333333",
        "stratum,position,arm,block_number,block_size",
    ]
    for label in sorted(lengths):
        blocks = reference_arms(
            seed, label, lengths[label], ("standard", "risk-based"), (1, 1), (2, 4, 6),
            probabilities,
        )  # fmt: skip
        position = 0
        for number, (size, block) in enumerate(blocks, start=1):
            for arm in block:
                position += 1
                lines.append(f"{label},{position},{arm},{number},{size}")
    return "\n".join(lines) + "\n"


GOLDEN_SHA256 = "59e7cc58961c0037e9af622ef7f6dbb0327c096a5210db8ac7b954750f199723"
"""SHA-256 of the list below, recorded for algorithm version 1 (numpy 2.4)."""


def test_golden_hash_never_changes_within_an_algorithm_version():
    # The hash of the documented text built by the independent reference implementation; pinned
    # so that a change in numpy's PCG64/SeedSequence streams or in the format is caught. If it
    # changes, lists made earlier can no longer be verified: bump ALGORITHM_VERSION instead.
    lengths = dict.fromkeys(STRATA, 40)
    text = reference_text(20240601, lengths)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == GOLDEN_SHA256
    allocation_list = generate_list(lengths, seed=20240601)
    assert allocation_list.serialise() == text
    assert allocation_list.sha256 == GOLDEN_SHA256
    assert (ALGORITHM, ALGORITHM_VERSION) == ("pebs-permuted-blocks-random-size", "1")


def test_regeneration_is_byte_identical():
    one = generate_list(dict.fromkeys(STRATA, 200), seed=42)
    two = generate_list(dict.fromkeys(reversed(STRATA), 200), seed=42)
    assert one.serialise().encode() == two.serialise().encode()
    assert one.sha256 == two.sha256 == hashlib.sha256(one.serialise().encode()).hexdigest()


def test_a_new_seed_changes_the_hash_and_the_allocations():
    one = generate_list(dict.fromkeys(STRATA, 200), seed=42)
    two = generate_list(dict.fromkeys(STRATA, 200), seed=43)
    assert one.sha256 != two.sha256
    for label in STRATA:
        assert one.stratum(label).arms[:100] != two.stratum(label).arms[:100]


def test_a_stratum_list_depends_only_on_seed_and_stratum():
    alone = generate_stratum("FR-PA:50-59", 120, seed=9)
    among = generate_list({"FR-PA:50-59": 120, "AA:40-49": 999, "ZZ:60-70": 5}, seed=9)
    assert among.stratum("FR-PA:50-59") == alone
    longer = generate_stratum("FR-PA:50-59", 1000, seed=9)
    assert longer.slots[: len(alone.slots)] == alone.slots
    sibling = generate_stratum("FR-PA:40-49", 120, seed=9)
    assert sibling.arms[:100] != alone.arms[:100]


@pytest.mark.parametrize("length", [1, 2, 5, 99, 100, 101])
def test_lists_end_at_a_block_end_within_one_block_of_the_length(length):
    slots = generate_stratum("BE-AN:40-49", length, seed=5).slots
    assert length <= len(slots) < length + 6
    last = slots[-1]
    assert sum(s.block_number == last.block_number for s in slots) == last.block_size
    assert sum(s.arm == "standard" for s in slots) * 2 == len(slots)


def test_the_canonical_text():
    design = BlockDesign(block_probabilities=(0.25, 0.5, 0.25))
    text = generate_list({"b:1": 3, "a:1": 3}, seed=11, design=design).serialise()
    lines = text.split("\n")
    assert lines[:9] == [
        "# pebs allocation list",
        "# algorithm: pebs-permuted-blocks-random-size",
        "# algorithm_version: 1",
        "# seed: 11",
        "# arms: standard,risk-based",
        "# ratio: 1:1",
        "# block_sizes: 2,4,6",
        "# block_probabilities: 0.25,0.5,0.25",
        "stratum,position,arm,block_number,block_size",
    ]
    assert text.endswith("\n")
    assert "\r" not in text
    rows = [line.split(",") for line in lines[9:-1]]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert {r[2] for r in rows} == {"standard", "risk-based"}


def test_parse_round_trip():
    original = generate_list(dict.fromkeys(STRATA, 30), seed=123)
    parsed = parse_list(original.serialise())
    assert parsed == original
    assert parsed.sha256 == original.sha256


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.replace("# pebs allocation list", "# list"), "not a pebs allocation list"),
        (lambda t: t.rstrip("\n"), "end with a newline"),
        (lambda t: t.replace("# seed: ", "# sowing: "), "line 4: expected '# seed: ...'"),
        (lambda t: t.replace("# ratio: 1:1", "# ratio: 1:x"), "list header"),
        (lambda t: t.replace("block_number,", "block,"), "line 9: expected the columns"),
        (lambda t: t.replace("\nFR-PA:40-49,1,", "\nFR-PA:40-49,1;"), "line 10: expected 5 values"),
        (lambda t: t.replace("\nFR-PA:40-49,1,", "\nFR-PA:40-49,one,"), "line 10: expected 5"),
    ],
)
def test_parse_errors_name_the_line(edit, fragment):
    text = generate_list({"FR-PA:40-49": 4}, seed=1).serialise()
    with pytest.raises(AllocationListError) as info:
        parse_list(edit(text))
    assert fragment in str(info.value)


def test_verify_accepts_the_genuine_list():
    stored = generate_list(dict.fromkeys(STRATA, 60), seed=31337)
    result = verify_list(parse_list(stored.serialise()), 31337, expected_sha256=stored.sha256)
    assert result.matches
    assert result.problems == ()
    assert result.sha256_of_list == result.sha256_regenerated == stored.sha256


def test_verify_rejects_a_wrong_seed():
    stored = generate_list(dict.fromkeys(STRATA, 60), seed=31337)
    result = verify_list(stored, 31338)
    assert not result.matches
    assert "header names seed 31337, not 31338" in result.problems[0]
    assert "differs from the one the seed generates" in result.problems[1]


def test_verify_finds_a_tampered_slot():
    stored = generate_list({"FR-PA:40-49": 20}, seed=8)
    first = stored.stratum("FR-PA:40-49").slots[0]
    other = "risk-based" if first.arm == "standard" else "standard"
    lines = stored.serialise().split("\n")
    lines[9] = f"FR-PA:40-49,1,{other},1,{first.block_size}"
    tampered = parse_list("\n".join(lines))
    result = verify_list(tampered, 8, expected_sha256=stored.sha256)
    assert not result.matches
    assert "stratum 'FR-PA:40-49'" in result.problems[0]
    assert f"arm='{other}'" in result.problems[0]
    assert f"differs from the stored {stored.sha256}" in result.problems[1]


def test_verify_refuses_another_algorithm_version():
    stored = generate_list({"FR-PA:40-49": 4}, seed=8)
    other = AllocationList(stored.seed, stored.design, stored.strata, algorithm_version="0")
    with pytest.raises(AllocationListError, match=r"version 0; this is .* version 1"):
        verify_list(other, 8)


def test_unequal_ratio_blocks_hold_the_ratio():
    design = BlockDesign(ratio=(2, 1), block_sizes=(3, 6, 9))
    slots = generate_stratum("IT-RM:50-59", 600, seed=4, design=design).slots
    for _, block in itertools.groupby(slots, key=lambda s: s.block_number):
        arms = [s.arm for s in block]
        assert arms.count("standard") == 2 * arms.count("risk-based")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"arms": ("standard",), "ratio": (1,)}, "at least two names"),
        ({"arms": ("a", "a")}, "more than once"),
        ({"arms": ("a,b", "c")}, "arm 'a,b' must be made of letters"),
        ({"ratio": (1,)}, "one whole number per arm (2)"),
        ({"ratio": (1, 0)}, "each ratio entry must be a whole number >= 1, got 0"),
        ({"block_sizes": (2, 3)}, "block_sizes: 3 is not a multiple of sum(ratio) = 2"),
        ({"block_sizes": (4, 2)}, "strictly ascending"),
        ({"block_sizes": ()}, "non-empty tuple"),
        ({"block_probabilities": (0.5, 0.5)}, "one proportion per block size (3)"),
        ({"block_probabilities": (0.5, 0.5, 0.1)}, "must sum to 1"),
        ({"block_probabilities": (1.2, -0.1, -0.1)}, "proportion in (0, 1], got 1.2"),
    ],
)
def test_design_errors_name_the_field(kwargs, fragment):
    with pytest.raises(AllocationListError) as info:
        BlockDesign(**kwargs)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("FR-PA:40-49", 10, -1), "seed must be a whole number >= 0, got -1"),
        (("FR-PA:40-49", 10, True), "seed must be a whole number >= 0, got True"),
        (("FR-PA:40-49", 0, 1), "length must be a whole number >= 1, got 0"),
        (("FR-PA,40-49", 10, 1), "stratum 'FR-PA,40-49' must be made of"),
        (("", 10, 1), "stratum '' must be made of"),
    ],
)
def test_generation_errors_name_the_argument(args, fragment):
    with pytest.raises(AllocationListError) as info:
        generate_stratum(*args)
    assert fragment in str(info.value)


def test_unknown_stratum_lists_the_known_ones():
    allocation_list = generate_list({"A:1": 2, "B:1": 2}, seed=1)
    with pytest.raises(AllocationListError, match=r"'C:1' is not in this list; strata: A:1, B:1"):
        allocation_list.stratum("C:1")


def test_fresh_seeds_are_128_bit_and_differ():
    seeds = {fresh_seed() for _ in range(5)}
    assert len(seeds) == 5
    assert all(0 <= s < 2**128 for s in seeds)
