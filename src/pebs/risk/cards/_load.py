"""Reading the packaged cards: ``gail.toml``, ``icare.toml``, ``personalised.toml`` (one card per
country) and the generated ``calibration.csv`` (written by ``scripts/model_cards.py``).

Each card is checked against the code it describes: its ``version`` must equal the module's
``MODEL_VERSION`` / ``METHOD_VERSION``, so a model cannot change version while its card still
describes the old one; the personalised card must list exactly the countries with packaged tables,
and the calibration table must have been generated for the current model version.
"""

from __future__ import annotations

import csv
import io
import tomllib
from functools import cache
from importlib.resources import files
from typing import Any

from pebs.risk.cards._schema import CardError, ModelCard, build

CALIBRATION_FILE = "calibration.csv"
CALIBRATION_COLUMNS = ("country", "band", "expected", "observed", "e_over_o", "n_women")
PERSONALISED_PREFIX = "personalised-"


def _text(name: str) -> str:
    return files("pebs.risk.cards").joinpath(name).read_text(encoding="utf-8")


def _toml(name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(_text(name))
    except tomllib.TOMLDecodeError as error:
        raise CardError(f"{name}: not valid TOML: {error}") from error


def code_versions() -> dict[str, str]:
    """Card file stem -> the version constant of the code it describes."""
    from pebs.risk import gail, icare, personalised

    return {
        "gail": gail.MODEL_VERSION,
        "icare": icare.METHOD_VERSION,
        "personalised": personalised.MODEL_VERSION,
    }


def _check_version(card: ModelCard, file: str, expected: str) -> None:
    if card.version != expected:
        raise CardError(
            f"{file}: version: the card describes {card.version!r} but the code is "
            f"{expected!r}; review the card for the new version and update its version"
        )


def read_calibration(text: str | None = None) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The calibration file's header settings (``# key = value`` lines) and its rows."""
    text = _text(CALIBRATION_FILE) if text is None else text
    settings: dict[str, str] = {}
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, sep, value = line[1:].partition("=")
            if sep:
                settings[key.strip()] = value.strip()
        elif line.strip():
            lines.append(line)
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if tuple(reader.fieldnames or ()) != CALIBRATION_COLUMNS:
        raise CardError(f"{CALIBRATION_FILE}: columns must be {', '.join(CALIBRATION_COLUMNS)}, "
                        f"got {', '.join(reader.fieldnames or ())}")  # fmt: skip
    rows = []
    for number, row in enumerate(reader, start=2):
        try:
            values = {k: float(row[k]) for k in ("expected", "observed", "e_over_o")}
            values["n_women"] = int(row["n_women"])
        except (TypeError, ValueError) as error:
            raise CardError(f"{CALIBRATION_FILE}: row {number}: {error}") from error
        rows.append({"country": row["country"], "band": row["band"], **values})
    return settings, rows


def _personalised_cards(expected_version: str) -> list[ModelCard]:
    from pebs.risk.country import available_countries

    file = "personalised.toml"
    document = _toml(file)
    countries = document.pop("countries", None)
    if not isinstance(countries, dict):
        raise CardError(f"{file}: countries: a table per country code is required")
    shipped = set(available_countries())
    if set(countries) != shipped:
        raise CardError(f"{file}: countries: must be exactly {', '.join(sorted(shipped))}; "
                        f"got {', '.join(sorted(countries))}")  # fmt: skip
    settings, rows = read_calibration()
    generated_for = settings.get("model_version")
    if generated_for != expected_version:
        raise CardError(f"{CALIBRATION_FILE}: generated for model version {generated_for!r}, the "
                        f"code is {expected_version!r}: run scripts/model_cards.py")  # fmt: skip
    cards = []
    for code in sorted(countries):
        own = countries[code]
        if not isinstance(own, dict):
            raise CardError(f"{file}: countries.{code}: expected a table")
        table = [
            {k: v for k, v in row.items() if k != "country"}
            for row in rows
            if row["country"] == code
        ]
        if not table:
            raise CardError(f"{CALIBRATION_FILE}: no rows for country {code}: "
                            "run scripts/model_cards.py")  # fmt: skip
        method = (
            f"pebs.risk.personalised.validation.calibration_by_age(country_model({code!r}), "
            f"n_per_age={settings.get('n_per_age')}, seed={settings.get('seed')}), stored in "
            f"{CALIBRATION_FILE} by scripts/model_cards.py"
        )
        merged = {
            **document,
            **own,
            "id": f"{PERSONALISED_PREFIX}{code}",
            "country": code,
            "population": [*document.get("population", []), *own.get("population", [])],
            "limitations": [*document.get("limitations", []), *own.get("limitations", [])],
            "calibration": {**document.get("calibration", {}), "method": method, "table": table},
        }
        card = build(ModelCard, merged, f"{file} (countries.{code})")
        _check_version(card, file, expected_version)
        cards.append(card)
    return cards


@cache
def all_cards() -> tuple[ModelCard, ...]:
    """Every card, in the order they are listed: gail, icare, personalised per country."""
    versions = code_versions()
    cards = []
    for stem in ("gail", "icare"):
        file = f"{stem}.toml"
        card = build(ModelCard, _toml(file), file)
        if card.id != stem:
            raise CardError(f"{file}: id: must be {stem!r}, got {card.id!r}")
        _check_version(card, file, versions[stem])
        cards.append(card)
    cards.extend(_personalised_cards(versions["personalised"]))
    return tuple(cards)
