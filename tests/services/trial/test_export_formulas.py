"""The identity export cannot carry a spreadsheet formula (OWASP CSV injection guidance).

Read back with the ``csv`` module, no cell may start with ``=``, ``+``, ``-``, ``@``, tab or
carriage return unless it is a plain decimal number; the attacker's text is kept after a
leading single quote.
"""

from __future__ import annotations

import csv
import io
import re

from pebs.services.trial import NewParticipant, export_participants_csv, register_participant

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
NAME = '=HYPERLINK("http://x/","x")'
NATIONAL_ID = "@SUM(1+1)"


def _safe(cell: str) -> bool:
    return cell[:1] not in ("=", "+", "-", "@", "\t", "\r") or NUMBER.match(cell) is not None


def test_formulas_in_identity_fields_come_out_as_text(trial) -> None:
    new = NewParticipant(site="IT-TO", name=NAME, birth_date=trial.BORN_52,
                         national_id=NATIONAL_ID, contact="+1+cmd|' /C calc'!A0")  # fmt: skip
    attacker = register_participant(trial.sessions, trial.staff, trial.keys, trial.STUDY, new,
                                    at=trial.AT).study_id  # fmt: skip
    numeric = trial.register(national_id="-12345", contact="\t=1+1")
    stream = export_participants_csv(
        trial.sessions, trial.staff, trial.STUDY, include_identity=True, keys=trial.keys
    )
    text = "".join(stream)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert all(_safe(cell) for row in rows for cell in row)
    by_id = {row["study_id"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert by_id[attacker]["name"] == "'" + NAME
    assert by_id[attacker]["national_id"] == "'" + NATIONAL_ID
    assert by_id[attacker]["contact"] == "'+1+cmd|' /C calc'!A0"
    assert by_id[numeric]["national_id"] == "-12345"  # a number stays a number
    assert by_id[numeric]["contact"] == "'\t=1+1"
