"""Questionnaire instruments: the demo study's, answer types, and study-file messages naming the
key."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from pebs.trial import StudyError, load_study, parse_study
from pebs.trial.instruments import (
    Item,
    instruments_from_json,
    instruments_json,
    parse_instruments,
)

DEMO_TEXT = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")


def test_the_demo_instruments_are_the_published_scales() -> None:
    instruments = {i.name: i for i in load_study("mypebs-demo").instruments}
    stai = instruments["STAI-6 demo"]  # Marteau & Bekker 1992: six items, each scored 1 to 4
    assert stai.item_names() == tuple(f"item_{i}" for i in range(1, 7))
    assert {(i.type, i.minimum, i.maximum) for i in stai.items} == {("integer", 1, 4)}
    eq5d = instruments["EQ-5D-5L"]  # Herdman et al. 2011: five dimensions at 5 levels, VAS 0-100
    levels = {i.name: (i.type, i.minimum, i.maximum) for i in eq5d.items}
    assert levels == {
        **{d: ("integer", 1, 5) for d in ("mobility", "self_care", "usual_activities",
                                          "pain_discomfort", "anxiety_depression")},
        "vas": ("integer", 0, 100),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("item", "good", "bad"),
    [
        (Item("q", "integer", 1, 4), [1, 4, None], [0, 5, 2.0, True, "2", [1]]),
        (Item("q", "number", 0, 1.5), [0, 1.5, 0.25], [-0.1, 1.6, float("nan"), False, "1"]),
        (Item("q", "choice", values=("yes", "no")), ["yes", "no"], ["Yes", 1, True]),
        (Item("q", "boolean"), [True, False], [1, 0, "true"]),
        (Item("q", "text", max_length=3), ["", "abc"], ["abcd", 3, ["a"]]),
    ],
)
def test_each_type_accepts_its_values_only(item: Item, good: list, bad: list) -> None:
    assert [item.accepts(v) for v in good] == [True] * len(good)
    assert [item.accepts(v) for v in bad] == [False] * len(bad)


def test_the_stored_form_reads_back_the_same() -> None:
    instruments = load_study("mypebs-demo").instruments
    assert instruments_from_json(instruments_json(instruments)) == instruments
    choice = parse_instruments([{"name": "X", "title": "X", "items": [
        {"names": ["a"], "type": "choice", "values": ["p", "q"]},
        {"names": ["b"], "type": "text", "max_length": 20},
        {"names": ["c"], "type": "boolean"}]}])  # fmt: skip
    assert instruments_from_json(instruments_json(choice)) == choice


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ('name = "X"\ntitle = "X"\n', "instrument[3].items: needs at least one"),
        ('name = "X"\ntitle = "X"\n[[instrument.items]]\nnames = ["a"]\ntype = "date"\n',
         "instrument[3].items[1].type: unknown type 'date'; allowed: integer, number, choice"),
        ('name = "X"\ntitle = "X"\n[[instrument.items]]\nnames = ["a"]\ntype = "integer"\n'
         "min = 1\n", "instrument[3].items[1].max: must be a whole number, got None"),
        ('name = "X"\ntitle = "X"\n[[instrument.items]]\nnames = ["a", "a"]\ntype = "boolean"\n',
         "instrument[3].items: item(s) listed twice: a"),
        ('name = "X"\ntitle = "X"\nscale = 3\n', "instrument[3].scale: unknown key"),
    ],
)  # fmt: skip
def test_a_bad_instrument_names_the_key(section: str, message: str) -> None:
    text = DEMO_TEXT + "\n[[instrument]]\n" + section  # after the demo's two instruments
    with pytest.raises(StudyError, match="^" + re.escape("<study>: " + message)):
        parse_study(text)


def test_an_instrument_listed_twice_is_refused() -> None:
    twice = DEMO_TEXT.replace('name = "EQ-5D-5L"', 'name = "STAI-6 demo"')
    with pytest.raises(StudyError, match="instrument 'STAI-6 demo' is listed twice"):
        parse_study(twice)
