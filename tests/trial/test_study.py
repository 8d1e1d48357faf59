"""Study files: the shipped MyPeBS-like demo, lookups, and validation messages naming the key."""

from __future__ import annotations

from datetime import date
from importlib.resources import files

import pytest

from pebs.screening import load_policy
from pebs.trial import StudyError, load_study, parse_study, shipped_studies

DEMO_TEXT = files("pebs.trial").joinpath("studies", "mypebs-demo.toml").read_text("utf-8")
DEMO = load_study("mypebs-demo")

# MyPeBS (NCT03672331): planned recruitment per country; Spain's target is the demo's own
# assumption.
MYPEBS_TARGETS = {"IT": 30_000, "FR": 20_000, "IL": 15_000, "BE": 10_000, "UK": 10_000}


def test_demo_countries_targets_and_time_zones():
    targets = {c.code: c.target for c in DEMO.countries}
    assert {k: targets[k] for k in MYPEBS_TARGETS} == MYPEBS_TARGETS
    assert sum(MYPEBS_TARGETS.values()) == 85_000
    assert set(targets) == {*MYPEBS_TARGETS, "ES"}
    assert DEMO.target == 85_000 + targets["ES"]
    zones = {c.code: c.time_zone for c in DEMO.countries}
    assert zones == {
        "IT": "Europe/Rome", "FR": "Europe/Paris", "IL": "Asia/Jerusalem",
        "BE": "Europe/Brussels", "UK": "Europe/London", "ES": "Europe/Madrid",
    }  # fmt: skip
    assert DEMO.country("IL").zone.utcoffset(None) is None  # a real zone, not a fixed offset


def test_demo_sites_are_two_to_four_per_country_and_add_up():
    for country in DEMO.countries:
        sites = DEMO.sites_in(country.code)
        assert 2 <= len(sites) <= 4
        assert sum(s.target for s in sites) == country.target
        assert all(s.code.startswith(country.code + "-") for s in sites)
        assert all("fictional" in s.name for s in sites)
    assert "fictional" in DEMO_TEXT.lower()


def test_demo_policies_arms_and_randomisation():
    standard = {c.code: DEMO.policy_for("standard", c.code) for c in DEMO.countries}
    assert standard == {"IT": "it", "FR": "fr", "IL": "il", "BE": "be", "UK": "uk-england",
                        "ES": "es"}  # fmt: skip
    assert DEMO.policy_for("risk-based", "FR") == "mypebs-risk-based"
    for name in {*standard.values(), "mypebs-risk-based"}:
        load_policy(name)  # every named policy is shipped and valid
    design = DEMO.design
    assert (design.arms, design.ratio, design.block_sizes) == (
        ("standard", "risk-based"), (1, 1), (2, 4, 6),
    )  # fmt: skip


def test_demo_strata_are_site_by_age_band():
    labels = DEMO.strata_labels()
    assert len(labels) == 3 * len(DEMO.sites)
    assert {"FR-PA:40-49", "FR-PA:50-59", "FR-PA:60-70", "ES-BC:60-70"} <= set(labels)


def test_protocol_and_consent_versions_by_date():
    assert DEMO.protocol_on(date(2018, 7, 1)).version == "1.0"
    assert DEMO.protocol_on(date(2021, 2, 28)).version == "1.0"
    assert DEMO.protocol_on(date(2021, 3, 1)).version == "2.0"
    assert DEMO.protocol_on(date(2021, 3, 1)).eligibility.criteria == (
        DEMO.protocol_on(date(2019, 1, 1)).eligibility.criteria
    )
    assert DEMO.consent_document("FR", "fr", date(2020, 1, 14)).version == "1.0"
    assert DEMO.consent_document("FR", "fr", date(2020, 1, 15)).version == "1.1"
    assert DEMO.consent_document("BE", "nl", date(2024, 1, 1)).language == "nl"


D2024 = date(2024, 1, 1)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: DEMO.protocol_on(date(2018, 6, 30)), "no protocol version is in force on 2018-"),
        (lambda: DEMO.consent_document("BE", "de", D2024), "'de' is not a study language of BE"),
        (lambda: DEMO.consent_document("ES", "es", date(2020, 1, 1)), "no consent document for"),
        (lambda: DEMO.country("DE"), "unknown country 'DE'; countries: IT, FR"),
        (lambda: DEMO.site("FR-XX"), "unknown site 'FR-XX'; sites: IT-TO"),
        (lambda: DEMO.policy_for("control", "FR"), "unknown arm 'control'; arms: standard, risk"),
        (lambda: DEMO.policy_for("risk-based", "DE"), "unknown country 'DE'"),
    ],
)
def test_lookup_errors(call, fragment):
    with pytest.raises(StudyError) as info:
        call()
    assert fragment in str(info.value)


def test_load_by_path_and_unknown_names(tmp_path):
    path = tmp_path / "mypebs-demo.toml"
    path.write_text(DEMO_TEXT, encoding="utf-8")
    assert load_study(path).countries == DEMO.countries
    assert load_study(str(path)).sites == DEMO.sites
    assert "mypebs-demo" in shipped_studies()
    with pytest.raises(StudyError, match=r"unknown study 'mypebs'; shipped: mypebs-demo"):
        load_study("mypebs")
    with pytest.raises(StudyError, match="cannot be read"):
        load_study(tmp_path / "missing.toml")
    other = tmp_path / "other.toml"
    other.write_text(DEMO_TEXT, encoding="utf-8")
    with pytest.raises(StudyError, match=r"name: is 'mypebs-demo' but the file is named 'other'"):
        load_study(other)


def edited(old: str, new: str, count: int = 1) -> str:
    assert old in DEMO_TEXT, old
    return DEMO_TEXT.replace(old, new, count)


FR_SITE = 'code = "FR-PA"\nname = "Paris demo breast centre (fictional)"\ncountry = "FR"'

EDITS = [
    (('time_zone = "Europe/Paris"', 'time_zone = "Europe/Pariss"'),
     "country[2].time_zone: 'Europe/Pariss' is not an IANA time zone"),
    (('time_zone = "Europe/Paris"', 'time_zone = "UTC+1"'), "country[2].time_zone"),
    (('standard_policy = "fr"', 'standard_policy = "france"'),
     "country[2].standard_policy: unknown screening policy 'france'; known: "),
    (('standard_policy = "fr"', 'standard_policy = "mypebs-risk-based"'),
     "country[2].standard_policy: policy 'mypebs-risk-based' is for the risk-based arm, not "
     "standard"),
    (('policy = "mypebs-risk-based"', 'policy = "fr"'),
     "arm[2].policy: policy 'fr' is for the standard arm, not risk-based"),
    (('code = "FR"\n', 'code = "FRA"\n'), "country[2].code: must be a code like 'FR', got 'FRA'"),
    (('code = "FR"\n', 'code = "IT"\n'), "country[2].code: country 'IT' is listed twice"),
    (('languages = ["fr"]', 'languages = ["french"]'),
     "country[2].languages: must be a non-empty list of distinct ISO 639-1 codes"),
    (("target = 30000", "target = 0"), "country[1].target: must be a whole number >= 1, got 0"),
    (("target = 30000", 'target = "30000"'), "country[1].target: must be a whole number >= 1"),
    (('code = "FR-PA"', 'code = "PA"'), "site[5].code: must be a code like 'FR-PA', got 'PA'"),
    (('code = "FR-PA"', 'code = "IT-PA"'),
     "site[5].code: site code 'IT-PA' must start with its country code 'FR-'"),
    (('code = "FR-PA"', 'code = "FR-LY"'), "site[6].code: site 'FR-LY' is listed twice"),
    ((FR_SITE, FR_SITE.replace('"FR"', '"DE"')),
     "site[5].country: unknown country 'DE'; allowed: IT, FR, IL, BE, UK, ES"),
    ((FR_SITE + "\ntarget = 8000", FR_SITE + "\ntarget = 7000"),
     "country[2].target: FR has target 20000 but its sites' targets add up to 19000"),
    (("effective = 2021-03-01  #", "effective = 2018-07-01  #"),
     "protocol[2].effective: 2018-07-01 must be after the previous version's 2018-07-01"),
    (('criteria_from = "1.0"', 'criteria_from = "0.9"'),
     "protocol[2].criteria_from: '0.9' is not an earlier protocol version"),
    (('version = "2.0"', 'version = "1.0"'), "protocol[2].version: version '1.0' is listed twice"),
    (("effective = 2018-07-01", 'effective = "2018-07-01"'),
     "protocol[1].effective: must be a TOML date (2021-03-01), got '2018-07-01'"),
    (("expected = false", 'expected = "no"'),
     "protocol[1].criterion[1].expected: must be true or false, got 'no'"),
    (('id = "history_lcis"', 'id = "history_breast_cancer"'),
     "protocol[1]: protocol 1.0: criterion id 'history_breast_cancer' is used more than once"),
    (('id = "history_lcis"', 'id = "History LCIS"'), "protocol[1].criterion[3]: criterion id"),
    (("max_age = 70", "max_age = 30"), "protocol[1]: min_age 40 must not exceed max_age 30"),
    (('country = "FR"\nlanguage = "fr"', 'country = "FR"\nlanguage = "de"'),
     "consent[2].language: unknown language of FR 'de'; allowed: fr"),
    (('language = "ar"', 'language = "he"'),
     "consent[5].version: IL/he version '1.0' is listed twice"),
    (('language = "ar"\nversion = "1.0"', 'language = "he"\nversion = "1.1"'),
     "consent: no consent document for IL/ar (every language of every country needs one)"),
    (("block_sizes = [2, 4, 6]", "block_sizes = [2, 3]"),
     "randomisation: block_sizes: 3 is not a multiple of sum(ratio) = 2"),
    (("block_probabilities = [0.3333333333333333, 0.3333333333333333, 0.3333333333333333]",
      "block_probabilities = [0.5, 0.5, 0.5]"), "randomisation: block_probabilities must sum to 1"),
    (('name = "standard"', 'name = "control"'),
     "arm[1].name: unknown arm 'control'; allowed: standard, risk-based"),
    (('name = "risk-based"', 'name = "standard"'), "arm[2].name: arm 'standard' is listed twice"),
    (("ratio = 1", "ratio = 0"), "arm[1].ratio: must be a whole number >= 1, got 0"),
    (('factors = ["site", "age_band"]', 'factors = ["site", "postcode"]'),
     "strata: unknown strata factor 'postcode'"),
    (("age_bands = [[40, 49], [50, 59], [60, 70]]", "age_bands = [[40, 49], [55, 70]]"),
     "strata: age bands must be ascending and contiguous: 55-70 must start at 50"),
    (("age_bands = [[40, 49], [50, 59], [60, 70]]", "age_bands = [40, 70]"),
     "strata.age_bands: must be a list of [low, high] ages"),
    (('name = "mypebs-demo"', 'name = "mypebs-demo"\ncolour = "pink"'),
     "colour: unknown key; allowed: analysis, arm, consent, country"),
    (("target = 30000", "target = 30000\nregion = 1"), "country[1].region: unknown key"),
    (('title = "MyPeBS', 'titel = "MyPeBS'), "titel: unknown key"),
    (("[randomisation]", "[randomisation"), "not valid TOML"),
    (("[randomisation]\nblock_sizes = [2, 4, 6]\nblock_probabilities = [0.3333333333333333, "
      "0.3333333333333333, 0.3333333333333333]", "randomisation = 1"),
     "randomisation: must be a table, got 1"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "fragment"), EDITS)
def test_validation_messages_name_the_key(edit, fragment):
    text = edited(*edit)
    with pytest.raises(StudyError) as info:
        parse_study(text, "mypebs-demo.toml")
    message = str(info.value)
    assert message.startswith("mypebs-demo.toml: ")
    assert fragment in message


def test_a_study_without_consent_documents():
    text = DEMO_TEXT.split("# --- consent documents")[0]
    with pytest.raises(StudyError, match=r"consent: needs at least one \[\[consent\]\] table"):
        parse_study(text, "mypebs-demo.toml")
