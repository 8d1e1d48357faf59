"""The (entity, action) pairs the services write to the audit trail, found in their source.

Read from the code by :mod:`ast` (every ``append_event(...)`` call whose ``entity`` and ``action``
are written out, and the module constants they name), from the deep audit's rules (which event
sets which stored value) and, for the few calls whose action is a variable, from the vocabulary
that variable takes its values from.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pebs
from pebs.services.operations._audited_tables import RULES
from pebs.trial.samples import SampleEvent

SOURCE = Path(pebs.__file__).parent


def _module_name(path: Path) -> str:
    return ".".join(("pebs", *path.relative_to(SOURCE).with_suffix("").parts))


def _value(node: ast.expr, module: str) -> set[str] | None:
    """The texts an argument may be: a literal, a module constant, or any value of a module
    dict indexed (``RESULT_ACTIONS[...]``); ``None`` when it is a variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id.isupper():
        return {str(getattr(importlib.import_module(module), node.id))}
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        table = getattr(importlib.import_module(module), node.value.id)
        return {str(v) for v in table.values()}
    return None


def literal_pairs() -> set[tuple[str, str]]:
    pairs = set()
    for path in sorted((SOURCE / "services").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            called = getattr(node, "func", None)
            if not (isinstance(node, ast.Call) and getattr(called, "id", None) == "append_event"):
                continue
            args = {k.arg: k.value for k in node.keywords}
            if "entity" not in args or "action" not in args:
                continue
            entities = _value(args["entity"], _module_name(path))
            actions = _value(args["action"], _module_name(path))
            if entities and actions:
                pairs |= {(e, a) for e in entities for a in actions}
    return pairs


def rule_pairs() -> set[tuple[str, str]]:
    return {(r.entity, a) for r in RULES if r.entity and r.actions for a in r.actions}


VARIABLE_ACTIONS: set[tuple[str, str]] = {
    # pebs.services.samples.kits: a kit's event is the state machine's event
    *(("sample", str(event)) for event in SampleEvent),
    # pebs.services.trial.exports: before the first byte, and when the stream ends
    ("participant_export", "export"), ("participant_export", "export_end"),
    # pebs.services.trial.study_loading: every row of a study file, created or updated
    *((entity, action) for entity in ("study", "country", "site", "arm", "protocol_version",
                                      "consent_document") for action in ("create", "update")),
    # pebs.services.operations: a restored database records its restore
    ("database", "restore"),
}  # fmt: skip


def audit_pairs() -> set[tuple[str, str]]:
    """Every (entity, action) pair the services can write."""
    return literal_pairs() | rule_pairs() | VARIABLE_ACTIONS
