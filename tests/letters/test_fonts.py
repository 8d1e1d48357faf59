"""The bundled fonts: DejaVu Sans 2.37 with its licence, covering every character letters print."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from pebs.i18n import catalogues, formats
from pebs.letters.templates import templates
from pebs.trial.vocabularies import LANGUAGES, RISK_LEVELS

FONTS = resources.files("pebs.letters").joinpath("fonts")
ROOT = Path(__file__).resolve().parents[2]


def _cmap(name: str) -> set[int]:
    with resources.as_file(FONTS.joinpath(name)) as path:
        return set(TTFont(path).getBestCmap())


def _letter_characters() -> set[str]:
    characters: set[str] = set()
    for language, loaded in templates().items():
        texts = list(loaded.words.values())
        for template in loaded.letters.values():
            texts += [template.title, *(block.text or "" for block in template.blocks)]
        texts += [catalogues()[language].text(f"level.{level}") for level in RISK_LEVELS]
        messages = catalogues()[language].messages  # the plan reasons a letter prints
        texts += [text for key, text in messages.items() if key.startswith("reason.")]
        texts += [formats.long_date(date(2027, month, 9), language) for month in range(1, 13)]
        texts += [formats.percent(0.0256, language), formats.decimal(1000, language, digits=0)]
        characters.update("".join(texts))
    return characters - {"\n"}


@pytest.mark.parametrize("name", ["DejaVuSans-letters.ttf", "DejaVuSans-Bold-letters.ttf"])
def test_fonts_cover_every_character_the_letters_print(name: str) -> None:
    covered = _cmap(name)
    missing = sorted(char for char in _letter_characters() if ord(char) not in covered)
    assert missing == []


@pytest.mark.parametrize("name", ["DejaVuSans-letters.ttf", "DejaVuSans-Bold-letters.ttf"])
def test_fonts_cover_latin_accents_and_hebrew(name: str) -> None:
    covered = _cmap(name)
    wanted = (
        "éèêëàâçñüïîôöœßåøÆØÅąčęěłńőřśšţűźžĳ"
        + "אבגדהוזחטיכלמנסעפצקרשתךםןףץ"
        + "€₪\u2013\u2014\u2018\u2019\u201c\u201d«»…"
    )
    assert [char for char in wanted if ord(char) not in covered] == []


def test_fonts_are_dejavu_237_with_the_licence() -> None:
    with resources.as_file(FONTS.joinpath("DejaVuSans-letters.ttf")) as path:
        names = TTFont(path)["name"]
    assert names.getDebugName(1) == "DejaVu Sans"
    assert "2.37" in names.getDebugName(5)
    licence = FONTS.joinpath("LICENSE-DejaVu.txt").read_text("utf-8")
    assert "Bitstream Vera" in licence
    assert "Permission is hereby granted" in licence
    assert FONTS.joinpath("README.md").is_file()


def test_the_wheel_packages_the_fonts_and_templates() -> None:
    """Hatch puts every file under ``packages`` into the wheel, data files included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/pebs"]
    letters = ROOT / "src" / "pebs" / "letters"
    assert (letters / "fonts" / "DejaVuSans-letters.ttf").is_file()
    assert all((letters / "templates" / f"{code}.toml").is_file() for code in LANGUAGES)
