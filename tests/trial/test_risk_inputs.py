"""The study file's ``[risk_assessment]`` section and the level order.

Expected values are written from the demo file's section and from the MyPeBS level order
(low < average < high < very_high; NCT03672331).
"""

from __future__ import annotations

from importlib.resources import files

import pytest

from pebs.trial import RiskInputRules, StudyError, is_lower, load_study, parse_study
from pebs.trial.risk_inputs import DEFAULT_RULES, RiskRulesError, parse_rules, rules_from_json

DEMO_TEXT = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")
ALL = ("n_biopsies", "atypical_hyperplasia", "age_at_menarche", "age_at_first_birth",
       "n_relatives", "density", "prs_z")  # fmt: skip


def _with_section(section: str) -> str:
    start = DEMO_TEXT.index("[risk_assessment]")
    end = DEMO_TEXT.index("allow_provisional = false") + len("allow_provisional = false")
    return DEMO_TEXT[:start] + section + DEMO_TEXT[end:]


def test_the_demo_requires_every_input_and_no_provisional_assessment():
    rules = load_study("mypebs-demo").risk_assessment
    assert rules == RiskInputRules(ALL, allow_provisional=False)
    assert 'model = "pebs-personalised-5y"' in DEMO_TEXT  # named explicitly, the default


def test_the_model_defaults_to_the_personalised_one_and_is_stored_only_when_chosen():
    assert parse_rules({}).model == DEFAULT_RULES.model == "pebs-personalised-5y"
    assert parse_rules({"model": "pebs-personalised-5y"}) == DEFAULT_RULES
    # configurations stored before the key existed read, and compare, the same
    assert DEFAULT_RULES.as_json() == {"required": list(ALL), "allow_provisional": False}
    assert rules_from_json({"required": list(ALL), "allow_provisional": False}) == DEFAULT_RULES
    chosen = RiskInputRules(ALL, allow_provisional=False, model="another-model")
    assert chosen.as_json()["model"] == "another-model"
    assert rules_from_json(chosen.as_json()) == chosen


def test_a_study_without_the_section_requires_everything():
    start = DEMO_TEXT.index("[risk_assessment]")
    end = DEMO_TEXT.index("allow_provisional = false") + len("allow_provisional = false")
    study = parse_study(DEMO_TEXT[:start] + DEMO_TEXT[end:])
    assert study.risk_assessment == DEFAULT_RULES
    assert DEFAULT_RULES.required == ALL
    assert DEFAULT_RULES.allow_provisional is False


@pytest.mark.parametrize(
    ("section", "fragments"),
    [
        ('[risk_assessment]\nrequired = ["biopsies"]', ["risk_assessment.required",
                                                         "'biopsies'", "n_biopsies, "]),
        ('[risk_assessment]\nrequired = ["density", "density"]', ["'density' is listed twice"]),
        ("[risk_assessment]\nrequired = \"density\"", ["risk_assessment.required",
                                                       "must be a list"]),
        ('[risk_assessment]\nallow_provisional = "yes"', ["risk_assessment.allow_provisional",
                                                          "true or false", "'yes'"]),
        ('[risk_assessment]\nrequired = ["density"]\nallow_provisional = true',
         ["risk_assessment.allow_provisional", "'prs_z'"]),
        ("[risk_assessment]\noptional = []", ["risk_assessment.optional", "unknown key",
                                              "allow_provisional, model, required"]),
        ('[risk_assessment]\nmodel = "gail"', ["risk_assessment.model", "unknown risk model",
                                               "'gail'", "allowed: pebs-personalised-5y"]),
        ("[risk_assessment]\nmodel = 5", ["risk_assessment.model", "5",
                                           "allowed: pebs-personalised-5y"]),
    ],
)  # fmt: skip
def test_mistakes_name_the_file_key_value_and_allowed_values(section, fragments):
    with pytest.raises(StudyError) as caught:
        parse_study(_with_section(section), "trial/mypebs-demo.toml")
    message = str(caught.value)
    assert message.startswith("trial/mypebs-demo.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_absent_required_inputs_and_provisional():
    rules = parse_rules({"required": ["n_biopsies", "atypical_hyperplasia", "density", "prs_z"],
                         "allow_provisional": True})  # fmt: skip
    answers = {"n_biopsies": 2, "atypical_hyperplasia": None, "density": "unknown"}
    assert rules.absent_required(answers) == ("atypical_hyperplasia",)  # PRS: provisional
    assert rules.is_provisional(answers) is True
    assert rules.is_provisional({**answers, "prs_z": "unknown"}) is False
    no_biopsy = {"n_biopsies": 0, "density": "b", "prs_z": 0.1}
    assert rules.absent_required(no_biopsy) == ()  # hyperplasia is not asked after no biopsy
    strict = parse_rules({"required": ["n_biopsies", "prs_z"]})
    assert strict.absent_required({"n_biopsies": 1}) == ("prs_z",)
    assert rules_from_json(rules.as_json()) == rules
    assert rules_from_json(None) == DEFAULT_RULES
    with pytest.raises(RiskRulesError):
        parse_rules(["prs_z"])


def test_level_order():
    levels = ["low", "average", "high", "very_high"]
    for i, previous in enumerate(levels):
        for j, new in enumerate(levels):
            assert is_lower(previous, new) is (j < i), (previous, new)
    assert is_lower(None, "low") is False
