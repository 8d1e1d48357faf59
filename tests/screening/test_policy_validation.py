"""Policy files: every validation problem is reported with the file, line, key and the fix."""

from __future__ import annotations

import pytest

from pebs.screening import PolicyError, load_policy, parse_policy, shipped_policies

HEADER = """name = "demo"
title = "Demo policy"
kind = "guideline"
arm = "any"
levels = ["low", "high"]
source = "A guideline, 2024"
"""

RULE = """
[[rule]]
id = "biennial"
ages = [50, 75]
every_months = 24
modalities = ["mammography"]
reason = "Every 2 years."
"""


def test_a_valid_policy_reads_back_its_values():
    policy = parse_policy(HEADER + RULE, "demo.toml")
    (rule,) = policy.rules
    assert (rule.start_age, rule.stop_age, rule.every_months) == (50, 75, 24)
    assert rule.modalities == ("mammography",)
    assert policy.window_months == 3
    assert policy.ages == (50, 75)


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (('modalities = ["mammography"]', 'modalities = ["xray"]'),
         ["demo.toml:12:", "rule[1].modalities", "'xray'", "mammography, tomosynthesis"]),
        (("every_months = 24", "every_months = -6"),
         ["demo.toml:11:", "rule[1].every_months", "whole number from 1 to 120", "-6"]),
        (("every_months = 24", "every_months = 0"), ["rule[1].every_months"]),
        (("ages = [50, 75]", "ages = [75, 50]"),
         ["demo.toml:10:", "rule[1].ages", "start_age < stop_age"]),
        (("ages = [50, 75]", "ages = [50]"), ["rule[1].ages", "[start_age, stop_age]"]),
        (('reason = "Every 2 years."', ""), ["rule[1].reason", "is missing"]),
        (('id = "biennial"', 'id = "biennial"\nlevels = ["medium"]'),
         ["rule[1].levels", "'medium'", "low, high"]),
        (('id = "biennial"', 'id = "biennial"\ndensity = ["e"]'), ["rule[1].density", "'e'"]),
        (('id = "biennial"', 'id = "biennial"\nrisk_5y_below = 1.3'),
         ["rule[1].risk_5y_below", "0.013"]),
        (('id = "biennial"', 'id = "biennial"\ncolour = "red"'), ["rule[1].colour", "unknown key"]),
    ],
)  # fmt: skip
def test_rule_problems(change, fragments):
    old, new = change
    with pytest.raises(PolicyError) as caught:
        parse_policy(HEADER + RULE.replace(old, new), "demo.toml")
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_missing_source():
    text = (HEADER + RULE).replace('source = "A guideline, 2024"\n', "")
    with pytest.raises(PolicyError, match=r"demo\.toml: source: is missing"):
        parse_policy(text, "demo.toml")


def test_empty_source():
    with pytest.raises(PolicyError, match="source: must be a non-empty text"):
        parse_policy((HEADER + RULE).replace("A guideline, 2024", " "), "demo.toml")


def test_overlapping_bands_of_one_schedule():
    second = RULE.replace('"biennial"', '"annual"').replace("[50, 75]", "[70, 80]")
    with pytest.raises(PolicyError) as caught:
        parse_policy(HEADER + RULE + second, "demo.toml")
    message = str(caught.value)
    assert "demo.toml:17:" in message  # the second rule's `ages` line
    assert "rule[2].ages" in message
    assert "overlap rule 'biennial'" in message


def test_gapped_bands_of_one_schedule():
    second = RULE.replace('"biennial"', '"later"').replace("[50, 75]", "[76, 80]")
    with pytest.raises(
        PolicyError, match=r"rule\[2\]\.ages: ages leave a gap after rule 'biennial'"
    ):
        parse_policy(HEADER + RULE + second, "demo.toml")


def test_bands_for_different_women_may_overlap():
    high = RULE.replace('"biennial"', '"annual-high"').replace("[50, 75]", "[40, 75]")
    high = high.replace("every_months = 24", 'every_months = 12\nlevels = ["high"]')
    policy = parse_policy(HEADER + RULE + high, "demo.toml")
    assert [r.id for r in policy.rules] == ["biennial", "annual-high"]


def test_duplicate_rule_id():
    with pytest.raises(PolicyError, match=r"rule\[2\]\.id: id 'biennial' is used by more"):
        parse_policy(HEADER + RULE + RULE.replace("[50, 75]", "[75, 80]"), "demo.toml")


def test_name_must_match_the_file():
    with pytest.raises(PolicyError, match=r"but the file is named 'other'\.toml"):
        parse_policy(HEADER + RULE, "other.toml")


def test_levels_need_a_top_level_list():
    text = (HEADER + RULE).replace('levels = ["low", "high"]\n', "")
    text = text.replace('id = "biennial"', 'id = "biennial"\nlevels = ["low"]')
    with pytest.raises(PolicyError, match="no top-level 'levels' list"):
        parse_policy(text, "demo.toml")


def test_not_toml():
    with pytest.raises(PolicyError, match="not valid TOML"):
        parse_policy("name = ", "demo.toml")


def test_unknown_shipped_name_lists_the_shipped_ones():
    with pytest.raises(PolicyError, match="unknown policy 'nowhere'; shipped: "):
        load_policy("nowhere")


def test_every_shipped_policy_is_valid_and_cites_a_source():
    names = shipped_policies()
    for name in names:
        policy = load_policy(name)
        assert policy.name == name
        assert len(policy.source) > 20
