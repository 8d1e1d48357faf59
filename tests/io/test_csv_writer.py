"""Every CSV pebs writes neutralises spreadsheet formulas (OWASP CSV injection guidance).

The rule is written here independently of :mod:`pebs.io.csv_writer`: a cell read back is safe
when it does not start with ``=``, ``+``, ``-``, ``@``, tab or carriage return, unless it is a
plain decimal number (a spreadsheet reads that as the number and runs nothing).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pebs.io.csv_table import write_csv_chunk
from pebs.io.csv_writer import csv_text
from pebs.io.sim_outputs import write_rows_csv

ATTACKS = (
    '=HYPERLINK("http://x/","x")',
    "@SUM(1+1)",
    "+1+1",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
    "-inf",
    "a,=1+1",  # the comma is quoted: still one cell
    "a\r=1+1",  # so is a carriage return, which would otherwise start a new row
)
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def is_safe(cell: str) -> bool:
    return cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or NUMBER.match(cell) is not None


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_every_attack_is_read_back_as_quoted_text() -> None:
    text = csv_text([[attack, "ok"] for attack in ATTACKS], header=["=header", "plain"])
    rows = read_back(text)
    assert rows[0] == ["'=header", "plain"]
    assert all(is_safe(cell) for row in rows for cell in row)
    neutralised = {row[0] for row in rows[1:]}
    # each attack keeps its text after the added quote, except the one that was already safe
    assert neutralised == {("'" + a if a[0] in "=+-@\t\r" else a) for a in ATTACKS}
    assert len(rows) == 1 + len(ATTACKS)  # no cell started a row of its own


@pytest.mark.parametrize("value", ["-0.5", "+3", "-.5", "-1e-05", "-12345", "0.25"])
def test_a_plain_number_given_as_text_is_kept(value: str) -> None:
    assert read_back(csv_text([[value]])) == [[value]]


def test_typed_numbers_are_written_as_numbers() -> None:
    assert read_back(csv_text([[-0.5, -3, float("-inf"), None]])) == [["-0.5", "-3", "-inf", ""]]


def test_the_table_writer_neutralises_text_and_keeps_negative_numbers() -> None:
    """The writer of ``pebs risk ...`` outputs: input columns are carried through as text."""
    table = pd.DataFrame({
        "id": ['=HYPERLINK("http://x/","x")', "-7"],
        "note": ["@SUM(1+1)", "fine"],
        "prs_z": np.array([-0.5, np.nan]),
        "=risk": np.array([0.012, -1.25e-05]),
    })  # fmt: skip
    stream = io.StringIO()
    write_csv_chunk(table, stream, header=True)
    rows = read_back(stream.getvalue())
    assert rows == [
        ["id", "note", "prs_z", "'=risk"],
        ['\'=HYPERLINK("http://x/","x")', "'@SUM(1+1)", "-0.5", "0.012"],
        ["-7", "fine", "", "-1.25e-05"],
    ]
    assert float(rows[1][2]) == -0.5  # the number itself, unchanged


def test_the_dictionary_row_writer_neutralises_text(tmp_path: Path) -> None:
    """The writer of simulation and validation summaries (scenario names come from files)."""
    path = write_rows_csv(
        tmp_path / "summary.csv",
        [{"strategy": "=1+1", "delta": -0.5}, {"strategy": "@x", "delta": 2.0}],
        ["strategy", "delta"],
    )
    rows = read_back(path.read_text(encoding="utf-8"))
    assert rows == [["strategy", "delta"], ["'=1+1", "-0.5"], ["'@x", "2.0"]]
