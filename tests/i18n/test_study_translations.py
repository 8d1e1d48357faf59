"""A study file's own words in other languages: ``[translations.<language>]`` tables are read,
checked (a known language, a key that names something of the file) and stored with the study's
configuration only when given; the demo study translates every criterion, consent title and
questionnaire title into the five other languages."""

from __future__ import annotations

from importlib import resources

import pytest

from pebs.i18n.study_text import StudyWording
from pebs.services.trial.study_loading import config_json
from pebs.trial.study import StudyError, load_study, parse_study, translation_keys
from pebs.trial.vocabularies import LANGUAGES

DEMO = resources.files("pebs.trial").joinpath("studies", "mypebs-demo.toml")


def _demo_text() -> str:
    return DEMO.read_text(encoding="utf-8").split("\n# --- translations")[0]


def test_the_demo_study_is_translated_into_every_other_language() -> None:
    study = load_study("mypebs-demo")
    keys = translation_keys(study)
    assert "criterion.able_to_consent.question" in keys
    assert "consent.FR.fr.1.1.title" in keys
    assert "instrument.EQ-5D-5L.title" in keys
    for language in LANGUAGES:
        if language == "en":
            assert language not in study.translations
            continue
        assert set(study.translations[language]) == keys, language


def test_a_translation_is_found_and_english_is_the_fallback() -> None:
    study = load_study("mypebs-demo")
    wording = StudyWording.from_config(config_json(study))
    assert wording.question("fr", "chest_irradiation", "unused") == (
        "A-t-elle déjà reçu une radiothérapie du thorax ?"
    )
    assert wording.failure_reason("es", "bilateral mastectomy") == "mastectomía bilateral"
    assert wording.failure_reason("en", "bilateral mastectomy") == "bilateral mastectomy"
    assert wording.failure_reason("fr", "a reason of another study") == "a reason of another study"


def test_a_study_without_translations_stores_the_same_configuration() -> None:
    without = parse_study(_demo_text(), "mypebs-demo.toml")
    assert without.translations == {}
    assert "translations" not in config_json(without)
    assert "translations" in config_json(load_study("mypebs-demo"))


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('[translations.de]\n"criterion.able_to_consent.question" = "Kann sie einwilligen?"',
         "translations.de"),
        ('[translations.fr]\n"criterion.no_such_id.question" = "?"',
         "translations.fr.criterion.no_such_id.question"),
        ('[translations.fr]\n"consent.FR.fr.9.9.title" = "?"', "translations.fr.consent.FR.fr.9.9"),
        ('[translations.fr]\n"criterion.able_to_consent.question" = 3',
         "translations.fr.criterion.able_to_consent.question"),
    ],
)  # fmt: skip
def test_a_bad_translation_is_refused_naming_its_key(table: str, named: str) -> None:
    with pytest.raises(StudyError, match=named.replace(".", r"\.")):
        parse_study(_demo_text() + "\n" + table + "\n", "mypebs-demo.toml")
