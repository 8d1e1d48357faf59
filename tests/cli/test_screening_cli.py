"""`pebs policy ...` and `pebs plan`: rendering, JSON plans, and error paths."""

from __future__ import annotations

import json

import pytest

from pebs.cli import main

POLICY = """name = "local"
title = "A local programme"
kind = "national-programme"
arm = "standard"
source = "Local health authority, 2026"

[[rule]]
id = "biennial-50-74"
ages = [50, 75]
every_months = 24
modalities = ["mammography", "clinical_examination"]
reason = "Mammography and clinical examination every 2 years from 50 to 74."
"""


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "local.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_plan_json(policy_file, capsys):
    args = ["plan", "--policy", str(policy_file), "--birth-date", "1975-03-02",
            "--start", "2026-01-15", "--json"]  # fmt: skip
    assert main(args) == 0
    exams = json.loads(capsys.readouterr().out)
    # 50th birthday 2025-03-02 is before the start: due at the start, then 2028-01-15.
    assert [(e["due"], e["modality"]) for e in exams] == [
        ("2026-01-15", "mammography"), ("2026-01-15", "clinical_examination"),
        ("2028-01-15", "mammography"), ("2028-01-15", "clinical_examination"),
    ]  # fmt: skip
    assert set(exams[0]) == {"due", "window_start", "window_end", "modality", "reason", "policy"}
    assert exams[0]["window_end"] == "2026-04-15"
    assert exams[0]["policy"] == "local"


def test_plan_json_without_exam_carries_the_reason(policy_file, capsys):
    args = ["plan", "--policy", str(policy_file), "--birth-date", "1990-03-02",
            "--start", "2026-01-15", "--years", "2", "--json"]  # fmt: skip
    assert main(args) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["modality"] == "none"
    assert entry["due"] is None
    assert "covers ages 50 to 74" in entry["reason"]


def test_plan_table(policy_file, capsys):
    args = ["plan", "--policy", str(policy_file), "--birth-date", "1952-05-20",
            "--start", "2026-01-15", "--until", "2029-01-01"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2026-01-15" in out
    assert "ends at her 75th birthday (2027-05-20)" in out


@pytest.mark.parametrize(
    ("extra", "code", "fragment"),
    [
        (["--last-screen", "2026-06-01"], 65, "before the last screen"),
        (["--level", "high"], 65, "level 'high' is unknown"),
        (["--arm", "risk-based"], 65, "is for the standard arm"),
        (["--last-screen", "2026-13-01"], 2, "not a date"),
    ],
)
def test_plan_errors(policy_file, capsys, extra, code, fragment):
    args = ["plan", "--policy", str(policy_file), "--birth-date", "1975-03-02",
            "--start", "2026-01-15", *extra]  # fmt: skip
    assert main(args) == code
    assert fragment in capsys.readouterr().err


def test_unknown_policy_name(capsys):
    args = ["plan", "--policy", "atlantis", "--birth-date", "1975-03-02", "--start", "2026-01-15"]
    assert main(args) == 65
    assert "unknown policy 'atlantis'" in capsys.readouterr().err


def test_policy_check_ok_and_bad(policy_file, tmp_path, capsys):
    assert main(["policy", "check", str(policy_file)]) == 0
    assert "ok: policy 'local', 1 rule(s)" in capsys.readouterr().out
    bad = tmp_path / "local2.toml"
    bad.write_text(POLICY.replace('"local"', '"local2"').replace("every_months = 24",
                   "every_months = -1"), encoding="utf-8")  # fmt: skip
    assert main(["policy", "check", str(bad)]) == 65
    err = capsys.readouterr().err
    assert f"{bad}:10: rule[1].every_months: must be a whole number from 1 to 120, got -1" in err
    assert main(["policy", "check", str(tmp_path / "missing.toml")]) == 65
    assert "no such file" in capsys.readouterr().err


def test_policy_show(policy_file, capsys):
    assert main(["policy", "show", str(policy_file)]) == 0
    out = capsys.readouterr().out
    assert "ages 50 to 74, mammography + clinical breast examination every 2 years" in out
    assert "source: Local health authority, 2026" in out


def test_policy_list(capsys):
    assert main(["policy", "list"]) == 0
    assert "name" in capsys.readouterr().out


def _one_line_error(capsys, code: int, expected: int, fragment: str) -> None:
    err = capsys.readouterr().err
    assert code == expected, err
    assert err.startswith("pebs: error: "), err
    assert err.count("\n") == 1, err  # one line: no traceback
    assert fragment in err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--years", "nan"], "plan length in years must be a number from 1/12"),
        (["--years", "inf"], "got inf"),
        (["--years", "1e9"], "to 120, got 1000000000.0"),
        (["--years", "-1"], "got -1.0"),
        (["--years", "0.01"], "(one month)"),
        (["--start", "9999-12-31"], "the plan start 9999-12-31 is outside the dates"),
        (["--until", "9999-12-31"], "the plan end 9999-12-31 is outside the dates"),
        (["--last-screen", "0001-01-01"], "last screen 0001-01-01 is outside the dates"),
        (["--risk-5y", "nan"], "5-year risk must be a proportion"),
    ],
)
def test_plan_refuses_what_it_cannot_date_in_one_line(policy_file, capsys, extra, fragment):
    args = ["plan", "--policy", str(policy_file), "--birth-date", "1975-03-02",
            "--start", "2026-01-15", *extra]  # fmt: skip
    if "--start" in extra:
        del args[5:7]
    _one_line_error(capsys, main(args), 65, fragment)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            ("every_months = 24", "every_months = 99999999999999999999"),
            "rule[1].every_months: must be a whole number from 1 to 120, got 99999999999999999999",
        ),
        (("every_months = 24", "every_months = 1" + "0" * 5000), "not valid TOML"),
        (
            ("every_months = 24", "every_months = 24\noffset_months = 100000"),
            "rule[1].offset_months: must be a whole number from 0 to 120",
        ),
        (
            ('source = "Local', 'window_months = 1200\nsource = "Local'),
            "window_months: must be a whole number from 1 to 24",
        ),
    ],
)
def test_policy_check_refuses_what_plan_cannot_do(tmp_path, capsys, change, fragment):
    path = tmp_path / "local.toml"
    path.write_text(POLICY.replace(*change), encoding="utf-8")
    _one_line_error(capsys, main(["policy", "check", str(path)]), 65, fragment)
    args = ["plan", "--policy", str(path), "--birth-date", "1975-03-02", "--start", "2026-01-15"]
    _one_line_error(capsys, main(args), 65, fragment)  # plan refuses it the same way


def test_policy_check_of_a_binary_file(tmp_path, capsys):
    path = tmp_path / "image.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    _one_line_error(capsys, main(["policy", "check", str(path)]), 65,
                    f"{path}: not a UTF-8 text file (byte 0 is 0x89)")  # fmt: skip


def test_a_long_bad_value_in_a_policy_is_quoted_in_about_80_characters(tmp_path, capsys):
    path = tmp_path / "local.toml"
    path.write_text(POLICY.replace("every_months = 24", f'every_months = "{"A" * 100_000}"'),
                    encoding="utf-8")  # fmt: skip
    code = main(["policy", "check", str(path)])
    _one_line_error(capsys, code, 65, "got '" + "A" * 79 + "... (100002 characters)")


def test_plan_without_arm_uses_the_policys_own_arm(capsys):
    args = ["plan", "--policy", "wisdom", "--level", "highest", "--birth-date", "1978-05-04",
            "--start", "2026-01-15", "--json"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr().err
    assert {e["modality"] for e in json.loads(capsys.readouterr().out)} == {"mammography", "mri"}
    assert main([*args[:-1], "--arm", "standard"]) == 65  # an explicit other arm is refused
    assert "is for the risk-based arm, not standard" in capsys.readouterr().err


def test_plan_lasts_four_years_by_default(policy_file, capsys):
    args = ["plan", "--policy", str(policy_file), "--birth-date", "1975-03-02",
            "--start", "2026-01-15"]  # fmt: skip
    assert main(args) == 0
    assert "2026-01-15 to 2030-01-15" in capsys.readouterr().out  # MyPeBS: 4 years
