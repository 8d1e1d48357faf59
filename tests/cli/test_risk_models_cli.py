"""`pebs risk models [ID] [--json]`: the list of shipped models, one card as text or JSON, and the
one-line error for an unknown id."""

from __future__ import annotations

import json

import pytest

from pebs.cli import main
from pebs.risk import gail, personalised

COUNTRIES = ("BE", "ES", "FR", "IL", "IT", "UK", "UK_ENG", "US")
IDS = ["gail", "icare", *(f"personalised-{c}" for c in COUNTRIES)]


@pytest.fixture
def wide_terminal(monkeypatch):
    """Rich tables fold long cells at the terminal's width; give them room."""
    monkeypatch.setenv("COLUMNS", "250")


def _table_rows(out: str) -> list[list[str]]:
    """The rows of a rich table, each cell's folded lines joined again."""
    rows: list[list[str]] = []
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
    return rows


def test_list_shows_every_model_with_its_version(capsys, wide_terminal):
    assert main(["risk", "models"]) == 0
    out = capsys.readouterr().out
    for header in ("id", "name", "version", "countries / population", "intended use"):
        assert header in out
    rows = {row[0]: row for row in _table_rows(out)}
    assert list(rows) == IDS
    assert rows["gail"][1:4] == [gail.MODEL_NAME, gail.MODEL_VERSION,
                                 "US women, 11 race/ethnicity groups"]  # fmt: skip
    assert rows["personalised-FR"][1:4] == [personalised.MODEL_NAME, personalised.MODEL_VERSION,
                                            "women aged 40-79 in France"]  # fmt: skip
    assert "not the MyPeBS engine" in rows["personalised-FR"][4]


def test_json_list_has_every_card(capsys):
    assert main(["risk", "models", "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in documents] == IDS
    assert documents[1]["kind"] == "method"


def test_one_card_as_text(capsys):
    assert main(["risk", "models", "personalised-fr"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(personalised.MODEL_NAME)
    assert f"id: personalised-FR   version: {personalised.MODEL_VERSION}   kind: model" in out
    for heading in (
        "Intended use",
        "Not for",
        "Population",
        "Ages",
        "Inputs",
        "Outputs",
        "Calibration",
        "Discrimination",
        "Provenance",
        "Limitations",
        "References",
    ):
        assert f"\n{heading}" in out, heading
    assert "BRCA1/2" in out
    assert "missing-covariate rule" in out
    table = out[out.index("    age band") :].splitlines()[1:8]
    assert [line.split()[0] for line in table] == [f"{a}-{a + 4}" for a in range(40, 75, 5)]


def test_one_card_as_json(capsys):
    assert main(["risk", "models", "gail", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["id"] == "gail"
    assert document["version"] == gail.MODEL_VERSION
    assert document["ages"] == {"from_age": 20, "below_age": 90, "note": document["ages"]["note"]}
    missing = {i["name"].split(" ")[0]: i["missing"] for i in document["inputs"]}
    assert "lowest category" in missing["N_Biop"]
    assert document["calibration"]["table"] == []


def test_unknown_id_is_one_line_naming_the_allowed_ids(capsys):
    assert main(["risk", "models", "tyrer-cuzick"]) == 66
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("pebs: error: card_id: no model card 'tyrer-cuzick'; allowed: gail,")
    assert "personalised-UK_ENG" in line


def test_help_describes_the_command(capsys):
    assert main(["risk", "models", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Model cards" in out
    assert "--json" in out
