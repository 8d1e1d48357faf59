"""docs/security.md's tables "Bad inputs tried" and "Tampering detected" name tests that exist,
and the tampering table lists every tampering of the tamper suite.

Read from the source files (their ``def`` lines and the ``TAMPERINGS`` tuple), without importing
the test modules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"
TAMPER_SUITE = "tests/services/operations/test_tampering.py"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
TAMPER_ROW = re.compile(r"`T\[(\w+)\]`")


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    assert f"\n## {title}\n" in text, f"docs/security.md has no section {title!r}"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _rows(section: str) -> list[str]:
    return [row for row in section.splitlines() if row.startswith("| ") and "---" not in row][1:]


def _functions(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _tamperings() -> list[str]:
    tree = ast.parse((ROOT / TAMPER_SUITE).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "TAMPERINGS":
            assert isinstance(node.value, ast.Tuple)
            return [element.id for element in node.value.elts if isinstance(element, ast.Name)]
    raise AssertionError(f"{TAMPER_SUITE} defines no TAMPERINGS")


def test_every_row_of_both_tables_names_a_test_that_exists() -> None:
    tamperings = set(_tamperings())
    for title in ("Bad inputs tried", "Tampering detected"):
        rows = _rows(_section(title))
        assert len(rows) >= 10, f"{title}: {len(rows)} rows"
        for row in rows:
            cells = row.strip("|").split(" | ")
            assert len(cells) == 3, f"{title}: not three columns: {row}"
            found = REFERENCE.findall(cells[2]) + [
                (TAMPER_SUITE, f"T[{name}]") for name in TAMPER_ROW.findall(cells[2])
            ]
            assert found or cells[2].strip() == "same two tests", f"{title}: no test in: {row}"
            for path, name in found:
                if name.startswith("T["):
                    assert name[2:-1] in tamperings, f"{name} is not a tampering of the suite"
                else:
                    assert name in _functions(path), f"{path}::{name} does not exist"


def test_the_tampering_table_lists_every_tampering_of_the_suite() -> None:
    listed = set(TAMPER_ROW.findall(_section("Tampering detected")))
    tamperings = _tamperings()
    assert len(tamperings) >= 10
    missing = [name for name in tamperings if name not in listed]
    assert not missing, f"docs/security.md, Tampering detected: no row for {missing}"
