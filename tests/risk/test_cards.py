"""Model cards: every card loads, states the version of the code it describes, refuses unknown ids
and malformed files with the field's name, and its generated calibration table is not stale."""

from __future__ import annotations

import copy
import json
import math
import tomllib
from importlib.resources import files

import pytest

from pebs.risk import cards, gail, icare, personalised
from pebs.risk.cards import _load
from pebs.risk.cards._schema import CardError, ModelCard, build

COUNTRIES = ("BE", "ES", "FR", "IL", "IT", "UK", "UK_ENG", "US")
"""The countries the personalised model ships (docs/models/personalised.md), written out here."""
IDS = ("gail", "icare", *(f"personalised-{c}" for c in COUNTRIES))


def _document(name: str) -> dict:
    return tomllib.loads(files("pebs.risk.cards").joinpath(name).read_text(encoding="utf-8"))


@pytest.fixture
def fresh_cards():
    """Reload the cards from the package before and after a test that patches the loader."""
    _load.all_cards.cache_clear()
    yield
    _load.all_cards.cache_clear()


def test_every_shipped_card_loads_in_order():
    assert tuple(c.id for c in cards.list_cards()) == IDS
    assert cards.card_ids() == IDS
    for c in cards.list_cards():
        assert c.content_language == "en"
        for section in (c.intended_use, c.not_for, c.population, c.inputs, c.references):
            assert section, c.id


def test_versions_and_names_equal_the_code_constants():
    assert cards.card("gail").version == gail.MODEL_VERSION
    assert cards.card("gail").name == gail.MODEL_NAME
    assert cards.card("icare").version == icare.METHOD_VERSION
    assert cards.card("icare").name == icare.METHOD_NAME
    for country in COUNTRIES:
        card = cards.card(f"personalised-{country}")
        assert card.version == personalised.MODEL_VERSION
        assert card.name == personalised.MODEL_NAME
        assert card.country == country


def test_a_version_change_without_a_card_review_is_refused(monkeypatch, fresh_cards):
    versions = {**_load.code_versions(), "gail": "BCRA 9.9.9; pebs implementation 2"}
    monkeypatch.setattr(_load, "code_versions", lambda: versions)
    with pytest.raises(CardError, match=r"gail\.toml: version: .*'BCRA 9\.9\.9"):
        cards.list_cards()


def test_calibration_table_of_another_model_version_is_refused(monkeypatch, fresh_cards):
    versions = {**_load.code_versions(), "personalised": "9.0"}
    monkeypatch.setattr(_load, "code_versions", lambda: versions)
    with pytest.raises(CardError, match=r"calibration\.csv: generated for model version .*9\.0"):
        cards.list_cards()


def test_unknown_id_names_every_allowed_id():
    with pytest.raises(cards.UnknownCard) as raised:
        cards.card("boadicea")
    message = str(raised.value)
    assert "card_id" in message
    assert "'boadicea'" in message
    for allowed in IDS:
        assert allowed in message


def test_ids_are_found_whatever_their_case():
    assert cards.card("Personalised-fr").id == "personalised-FR"
    assert cards.card("personalised-uk_eng").id == "personalised-UK_ENG"
    assert cards.card("GAIL").id == "gail"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["inputs"][2].pop("missing"), r"gail\.toml: inputs\[2\]\.missing: required"),
        (lambda d: d.pop("not_for"), r"gail\.toml: not_for: required field is missing"),
        (lambda d: d.update(version=2), r"gail\.toml: version: expected a non-empty text"),
        (lambda d: d.update(summary="  "), r"gail\.toml: summary: expected a non-empty text"),
        (lambda d: d.update(not_for="BRCA"), r"gail\.toml: not_for: expected a list"),
        (lambda d: d["ages"].update(from_age=20.5), r"gail\.toml: ages\.from_age: expected a"),
        (lambda d: d.update(kind="engine"), r"gail\.toml: kind: 'engine' is not one of model"),
        (lambda d: d.update(auc=0.6), r"gail\.toml: auc: unknown field; allowed: id, name"),
        (lambda d: d["discrimination"]["figures"][0].update(value=[0.58]),
         r"gail\.toml: discrimination\.figures\[0\]\.value: expected a non-empty text"),
    ],
)  # fmt: skip
def test_a_malformed_card_names_the_file_and_the_field(change, message):
    document = _document("gail.toml")
    assert build(ModelCard, document, "gail.toml").id == "gail"  # the unchanged file is fine
    broken = copy.deepcopy(document)
    change(broken)
    with pytest.raises(CardError, match=message):
        build(ModelCard, broken, "gail.toml")


def test_cards_round_trip_through_plain_data():
    for card in cards.list_cards():
        data = json.loads(json.dumps(cards.as_dict(card)))
        assert build(ModelCard, data, "as_dict") == card


def test_missing_value_handling_is_stated_for_every_input():
    """The rules of docs/models/gail.md §2 and of the personalised model version 2.0."""
    by_name = {i.name.split(" ")[0]: i.missing for i in cards.card("gail").inputs}
    for code in ("N_Biop", "AgeMen", "Age1st", "N_Rels"):
        assert "lowest category" in by_name[code]
    assert "RR 1.0" in by_name["HypPlas"]
    inputs = {i.name.split(" ")[0]: i.missing for i in cards.card("personalised-FR").inputs}
    assert set(inputs) == {"age", *personalised.INPUTS}
    for name in ("n_biopsies", "age_menarche", "age_first_birth", "n_first_degree_relatives",
                 "density", "prs_z"):  # fmt: skip
        assert "missing-covariate rule" in inputs[name], name
    assert "RR 1.0" in inputs["atypical_hyperplasia"]
    assert "NO_CLASSICAL" in inputs["n_first_degree_relatives"]
    assert personalised.AssessmentError.NO_CLASSICAL.name == "NO_CLASSICAL"


def test_personalised_cards_say_who_they_are_not_for():
    for country in COUNTRIES:
        card = cards.card(f"personalised-{country}")
        not_for = " ".join(card.not_for)
        for phrase in ("BRCA1/2", "personal history of breast cancer", "chest irradiation",
                       "Ages outside 40-79", "open reimplementation"):  # fmt: skip
            assert phrase in not_for, (country, phrase)
        assert (card.ages.from_age, card.ages.below_age) == (40, 80)
        assert "Not yet validated externally" in card.discrimination.summary[0]
        assert "pebs validate" in " ".join(card.discrimination.summary)


def test_gail_discrimination_cites_published_figures():
    """Rockhill et al. JNCI 2001 (concordance 0.58, 0.56-0.60); Wang et al. Breast Cancer Res
    2018;20:18 (pooled AUC 0.61 American, 0.58 European women)."""
    figures = {f.source: f.value for f in cards.card("gail").discrimination.figures}
    assert figures["Rockhill et al., JNCI 2001"] == "0.58 (95% CI 0.56-0.60)"
    assert figures["Wang et al., Breast Cancer Res 2018;20:18"].startswith("0.61 (0.59-0.63)")


def test_calibration_table_rows_are_consistent():
    """Bands 40-44 ... 70-74 for every country; E/O = E / O; the age-conditional calibration
    holds within the 2% the personalised model documents for its Monte Carlo check."""
    bands = [f"{lo}-{lo + 4}" for lo in range(40, 75, 5)]
    for country in COUNTRIES:
        table = cards.card(f"personalised-{country}").calibration.table
        assert [row.band for row in table] == bands, country
        for row in table:
            assert row.e_over_o == pytest.approx(row.expected / row.observed, rel=1e-12)
            assert 0 < row.observed < 1
            assert 0.98 <= row.e_over_o <= 1.02, (country, row)
            assert row.n_women == 5 * 10_000
    assert cards.card("gail").calibration.table == ()


@pytest.mark.slow
def test_stored_calibration_table_is_what_the_model_gives_now():
    """Recompute one country with the stored settings: the packaged table must not go stale."""
    from pebs.risk.personalised.validation import calibration_by_age

    settings, rows = _load.read_calibration()
    assert settings["model_version"] == personalised.MODEL_VERSION
    stored = [row for row in rows if row["country"] == "FR"]
    n_per_age, seed = int(settings["n_per_age"]), int(settings["seed"])
    fresh = calibration_by_age(personalised.country_model("FR"), n_per_age=n_per_age, seed=seed)
    assert [b.band for b in fresh] == [row["band"] for row in stored]
    for band, row in zip(fresh, stored, strict=True):
        assert math.isclose(band.expected, row["expected"], rel_tol=1e-9), band
        assert math.isclose(band.observed, row["observed"], rel_tol=1e-9), band
        assert math.isclose(band.ratio, row["e_over_o"], rel_tol=1e-9), band
        assert band.n_women == row["n_women"]


def test_calibration_file_with_wrong_columns_is_refused():
    text = "# model_version = 2.0\ncountry,band,E,O\nFR,40-44,1,1\n"
    with pytest.raises(CardError, match=r"calibration\.csv: columns must be country, band"):
        _load.read_calibration(text)
    header = ",".join(_load.CALIBRATION_COLUMNS)
    with pytest.raises(CardError, match=r"calibration\.csv: row 2"):
        _load.read_calibration(f"{header}\nFR,40-44,0.1,abc,1,5\n")
    settings, rows = _load.read_calibration(f"# seed = 7\n{header}\nFR,40-44,0.1,0.2,0.5,5\n")
    assert settings == {"seed": "7"}
    assert rows == [{"country": "FR", "band": "40-44", "expected": 0.1, "observed": 0.2,
                     "e_over_o": 0.5, "n_women": 5}]  # fmt: skip
