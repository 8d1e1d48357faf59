"""The CanRisk pedigree reader and writer.

The expected values come from the hand-built files of ``tests/data/canrisk`` (their README says
what each one holds and what it should give) and from the specification's rules written out
here, never from the reader's own output. The writer is checked against the specification's
structure by an independent reading in this file (column line, field count, parents, sexes,
one target) and read back by the reader to the same inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pebs.io.canrisk_writer import Proband, write_canrisk
from pebs.io.imports.canrisk import NULLIPAROUS, CanRiskError, read_canrisk, read_canrisk_file
from pebs.trial.family_history import Person, affected_first_degree

DATA = Path(__file__).resolve().parents[1] / "data" / "canrisk"
YEAR = 2025

V4_COLUMNS = [
    "FamID", "Name", "Target", "IndivID", "FathID", "MothID", "Sex", "MZtwin", "Dead", "Age",
    "Yob", "BC1", "BC2", "OC", "PRO", "PAN", "Ashkn", "BRCA1", "BRCA2", "PALB2", "ATM", "CHEK2",
    "BARD1", "RAD51D", "RAD51C", "BRIP1", "HOXB13", "ER:PR:HER2:CK14:CK56",
]  # fmt: skip
"""The v4 column line, typed from the specification."""


def read(name: str):
    return read_canrisk_file(DATA / name, this_year=YEAR)


def refusal(data: bytes) -> list[tuple[int | None, str | None]]:
    with pytest.raises(CanRiskError) as caught:
        read_canrisk(data, this_year=YEAR)
    return [(p.line, p.column) for p in caught.value.problems]


def member(fam: str, iid: str, father: str, mother: str, sex: str, *, target: str = "0",
           bc1: str = "0", age: str = "0", yob: str = "0", bc2: str = "0") -> str:  # fmt: skip
    fields = [fam, "NA", target, iid, father, mother, sex, "0", "0", age, yob, bc1, bc2,
              "0", "0", "0", "0", *["0:0"] * 10, "0:0:0:0:0"]  # fmt: skip
    return "\t".join(fields)


def small(*lines: str, header: tuple[str, ...] = ()) -> bytes:
    """A v4 file: the target ``PB`` with her parents ``PF`` and ``PM``, then ``lines``."""
    family = [member("F1", "PB", "PF", "PM", "F", target="1", age="50", yob="1975"),
              member("F1", "PF", "0", "0", "M"), member("F1", "PM", "0", "0", "F")]  # fmt: skip
    text = ["##CanRisk 4.0", *header, "##" + "\t".join(V4_COLUMNS), *family, *lines]
    return ("\n".join(text) + "\n").encode()


# --- the hand-built files --------------------------------------------------------------------


def test_three_generations_count_only_the_mother_and_the_full_sister() -> None:
    found = read("three_generations.txt")
    assert found.version == "4"
    assert found.n_individuals == 14
    assert [(r.relation, r.age_at_diagnosis) for r in found.relatives] == [
        ("mother", 52), ("sister", 46)]  # fmt: skip
    assert found.n_other_affected == 4  # grandmother, aunt, cousin, half-sister
    assert found.inputs == {"age_at_menarche": 13, "age_at_first_birth": 27, "density": "c",
                            "prs_z": 0.85, "n_relatives": 2}  # fmt: skip
    assert (found.target_age, found.target_year_of_birth) == (45, 1977)


def test_what_pebs_does_not_use_is_reported() -> None:
    found = read("three_generations.txt")
    assert set(found.ignored_header) == {"oc_use", "mht_use", "BMI", "alcohol", "height"}
    assert found.ignored_columns == {"BRCA1": 1, "Dead": 2}


def test_half_sisters_are_second_degree_relatives() -> None:
    found = read("half_sisters.txt")
    assert found.relatives == ()
    assert found.inputs["n_relatives"] == 0
    assert found.n_other_affected == 2
    assert found.inputs["age_at_first_birth"] == NULLIPAROUS


def test_without_her_parents_her_family_history_is_absent_not_zero() -> None:
    found = read("target_alone_v2.txt")
    assert found.version == "2"
    assert not found.family_history
    assert found.inputs == {"age_at_menarche": 11, "density": "c"}  # BIRADS 3 is c


def test_a_byte_order_mark_and_crlf_line_ends_are_read() -> None:
    found = read("bom_crlf.txt")
    assert found.inputs == {"age_at_menarche": 14, "n_relatives": 1}
    assert found.relatives[0].relation == "mother"
    assert found.relatives[0].age_at_diagnosis is None  # AU: affected, age unknown


@pytest.mark.parametrize(("name", "expected"), [
    ("latin1.txt", [(6, None)]),
    ("male_target.txt", [(3, "Sex")]),
    ("two_targets.txt", [(6, "Target")]),
    ("missing_parent.txt", [(3, "MothID")]),
    ("bad_ages.txt", [(3, "Age"), (4, "Yob"), (5, "BC1")]),
    ("bad_columns.txt", [(4, None)]),
])  # fmt: skip
def test_bad_files_are_refused_naming_each_line_and_column(name, expected) -> None:
    with pytest.raises(CanRiskError) as caught:
        read(name)
    assert [(p.line, p.column) for p in caught.value.problems] == expected
    assert str(caught.value).startswith(f"{DATA / name}: CanRisk file: line {expected[0][0]}")


def test_messages_say_what_is_allowed() -> None:
    with pytest.raises(CanRiskError) as caught:
        read("bad_ages.txt")
    message = str(caught.value)
    assert "'forty': not an age; allowed: 0 (not known) or a whole number" in message
    assert "1850 to 2025" in message
    with pytest.raises(CanRiskError, match="not UTF-8 text"):
        read("latin1.txt")
    with pytest.raises(CanRiskError, match="27 fields; allowed: 28"):
        read("bad_columns.txt")


# --- the specification's rules, file by file -------------------------------------------------


def test_the_version_line_comes_first_and_version_1_is_refused() -> None:
    body = small().split(b"\n", 1)[1]
    assert refusal(b"##CanRisk 1.0\n" + body) == [(1, None)]
    assert refusal(b"##CanRisk 5.0\n" + body) == [(1, None)]
    assert refusal(body) == [(1, None)]
    for line in (b"##CanRisk 4\n", b"##CanRisk 4.0\n", b"##canrisk 4.0\n"):
        assert read_canrisk(line + body, this_year=YEAR).version == "4"


def test_the_column_line_must_be_the_versions() -> None:
    v2_line = "##" + "\t".join(c for c in V4_COLUMNS if c != "HOXB13")
    data = small().decode().replace("##" + "\t".join(V4_COLUMNS), v2_line).encode()
    assert refusal(data) == [(2, None)]
    assert refusal(b"##CanRisk 4.0\n") == [(None, None)]  # no column line


def test_fields_may_be_separated_by_white_space() -> None:
    data = small().decode().replace("\t", "  ").encode()
    assert read_canrisk(data, this_year=YEAR).inputs == {"n_relatives": 0}


def test_a_parent_alone_or_of_the_wrong_sex_is_refused() -> None:
    assert refusal(small(member("F1", "SIS", "PF", "0", "F"))) == [(6, "MothID")]
    assert refusal(small(member("F1", "SIS", "PM", "PM", "F"))) == [(6, "FathID")]


def test_identifiers_are_unique_and_everyone_is_connected() -> None:
    assert refusal(small(member("F1", "PF", "0", "0", "M"))) == [(6, "IndivID")]
    assert refusal(small(member("F1", "LONE", "0", "0", "F"))) == [(6, "IndivID")]
    assert refusal(small(member("F2", "SIS", "PF", "PM", "F"))) == [(6, "FamID")]


def test_cancer_codes_are_checked() -> None:
    assert refusal(small(member("F1", "SIS", "PF", "PM", "F", bc2="50"))) == [(6, "BC2")]
    assert refusal(small(member("F1", "SIS", "PF", "PM", "F", bc1="x"))) == [(6, "BC1")]
    assert refusal(small(member("F1", "SIS", "PF", "PM", "F", bc1="130"))) == [(6, "BC1")]
    line = member("F1", "SIS", "PF", "PM", "F").replace("0:0", "0:P", 1)
    assert refusal(small(line)) == [(6, "BRCA1")]


def test_risk_factor_lines_are_checked() -> None:
    assert refusal(small(header=("##menarche=twelve",))) == [(2, "##menarche")]
    assert refusal(small(header=("##birads=e",))) == [(2, "##birads")]
    assert refusal(small(header=("##menarche=12", "##MENARCHE=13"))) == [(3, "##MENARCHE")]
    assert refusal(small(header=("##menarche",))) == [(2, None)]
    both = ("##parity=0", "##first_live_birth=25")
    assert refusal(small(header=both)) == [(3, "##first_live_birth")]


def test_na_and_unknown_lines_leave_inputs_absent() -> None:
    header = ("##menarche=NA", "##parity=2", "##birads=NA", "##shoe_size=38")
    found = read_canrisk(small(header=header), this_year=YEAR)
    assert found.inputs == {"n_relatives": 0}  # parity 2: her age at first birth is not given
    assert found.ignored_header == ("shoe_size",)


def test_a_score_that_is_not_the_prs313_is_not_prs_z() -> None:
    other = read_canrisk(small(header=("##PRS_BC=alpha=0.45,zscore=1.2",)), this_year=YEAR)
    assert "prs_z" not in other.inputs
    assert other.ignored_header == ("PRS_BC",)
    ours = read_canrisk(small(header=("##PRS_BC=zscore=-1.5, alpha=0.501",)), this_year=YEAR)
    assert ours.inputs["prs_z"] == -1.5


def test_a_file_too_large_is_refused_unread() -> None:
    problems = refusal(small() + b"#" * (256 * 1024))
    assert problems == [(None, None)]


def test_the_nulliparous_answer_is_the_platforms() -> None:
    from pebs.services.trial import NULLIPAROUS as PLATFORM

    assert NULLIPAROUS == PLATFORM


# --- first-degree relatives ------------------------------------------------------------------


def test_daughters_count_and_men_do_not() -> None:
    people = [Person("her", "f", "m", "F", False, None), Person("f", None, None, "M", True, 60),
              Person("m", None, None, "F", False, None),
              Person("son", "p", "her", "M", True, 30), Person("p", None, None, "M", False, None),
              Person("dau", "p", "her", "F", True, 33),
              Person("bro", "f", "m", "M", True, 40)]  # fmt: skip
    found = affected_first_degree(people, "her")
    assert [(r.relation, r.id) for r in found] == [("daughter", "dau")]


# --- the writer ------------------------------------------------------------------------------


def structure(text: str) -> list[dict[str, str]]:
    """The members of a v4 file, checked against the specification's structural rules."""
    lines = text.splitlines()
    assert lines[0] == "##CanRisk 4.0"
    column_line = next(i for i, line in enumerate(lines) if line.startswith("##FamID"))
    assert lines[column_line][2:].split("\t") == V4_COLUMNS
    assert all(line.startswith("##") and "=" in line for line in lines[1:column_line])
    members = [dict(zip(V4_COLUMNS, line.split("\t"), strict=True))
               for line in lines[column_line + 1:]]  # fmt: skip
    assert all(len(line.split("\t")) == 28 for line in lines[column_line + 1 :])
    ids = {m["IndivID"]: m for m in members}
    assert len(ids) == len(members)
    assert [m["Target"] for m in members].count("1") == 1
    for m in members:
        assert (m["FathID"] == "0") == (m["MothID"] == "0")
        if m["FathID"] != "0":
            assert ids[m["FathID"]]["Sex"] == "M"
            assert ids[m["MothID"]]["Sex"] == "F"
        assert len(m["IndivID"]) <= 7
        assert len(m["FamID"]) <= 13
        assert m["Name"] == "NA"
    return members


def test_the_written_file_follows_the_specification_and_reads_back() -> None:
    inputs = {"age_at_menarche": 12, "age_at_first_birth": 31, "n_relatives": 3,
              "density": "d", "prs_z": 1.2345678901}  # fmt: skip
    text = write_canrisk(Proband("IT-TO-000001", 55, 1970), inputs)
    members = structure(text)
    assert [(m["IndivID"], m["BC1"]) for m in members] == [
        ("PB", "0"), ("PF", "0"), ("PM", "AU"), ("PS1", "AU"), ("PS2", "AU")]  # fmt: skip
    assert all(m["Age"] == "0" and m["Yob"] == "0" for m in members[1:])  # never invented
    assert (members[0]["Age"], members[0]["Yob"]) == ("55", "1970")
    back = read_canrisk(text.encode(), this_year=YEAR)
    assert back.inputs == inputs
    assert back.family_id == "IT-TO-000001"


def test_unknown_and_absent_inputs_are_not_written() -> None:
    inputs = {"age_at_menarche": "unknown", "age_at_first_birth": None, "n_relatives": "unknown",
              "density": "unknown", "prs_z": None, "n_biopsies": 2}  # fmt: skip
    text = write_canrisk(Proband("IT-TO-000002", None, None), inputs)
    assert text.splitlines()[1].startswith("##FamID")
    members = structure(text)
    assert len(members) == 1  # no count of relatives: her line alone
    assert (members[0]["Age"], members[0]["Yob"]) == ("0", "0")
    assert read_canrisk(text.encode(), this_year=YEAR).inputs == {}


def test_nulliparous_is_parity_0_and_her_own_cancer_is_written() -> None:
    proband = Proband("IT-TO-000003", 61, 1963, breast_cancer_age=58)
    text = write_canrisk(proband, {"age_at_first_birth": "nulliparous", "n_relatives": 0})
    assert "##parity=0" in text.splitlines()
    members = structure(text)
    assert members[0]["BC1"] == "58"
    assert [m["BC1"] for m in members[1:]] == ["0", "0"]  # unaffected parents
    back = read_canrisk(text.encode(), this_year=YEAR)
    assert back.inputs == {"age_at_first_birth": NULLIPAROUS, "n_relatives": 0}
    assert back.ignored_columns == {"BC1": 1}  # her own cancer is no questionnaire input


def test_a_family_id_the_format_cannot_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="1 to 13"):
        write_canrisk(Proband("IT-TORINO1-000001", 50, 1975), {})


_VALUES = st.fixed_dictionaries({}, optional={
    "age_at_menarche": st.integers(5, 30) | st.just("unknown"),
    "age_at_first_birth": st.integers(9, 60) | st.sampled_from(["nulliparous", "unknown"]),
    "n_relatives": st.integers(0, 20) | st.just("unknown"),
    "density": st.sampled_from(["a", "b", "c", "d", "unknown"]),
    "prs_z": st.floats(-10, 10, allow_nan=False) | st.just("unknown"),
})  # fmt: skip


@given(_VALUES)
def test_every_known_input_round_trips(inputs) -> None:
    text = write_canrisk(Proband("IT-TO-000004", 50, 1975), inputs)
    structure(text)
    known = {k: v for k, v in inputs.items() if v != "unknown"}
    assert read_canrisk(text.encode(), this_year=YEAR).inputs == known
