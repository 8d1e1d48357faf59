"""AJCC 8th edition anatomic stage groups for breast cancer, every row of the table.

Source of the expected values: Amin MB et al. (eds.), AJCC Cancer Staging Manual, 8th ed.,
Springer 2017, chapter 48 Breast, "Anatomic Stage Groups" (reproduced as Table 5 in Giuliano AE
et al., CA Cancer J Clin 2017;67:290-303), with its notes: T1 includes T1mi; T0 and T1 tumours
with nodal micrometastases only are stage IB, not IIA; M0 includes M0(i+). Each row below is
written from that table, expanded to every code of its categories.
"""

from __future__ import annotations

import itertools

import pytest

from pebs.trial import STAGE_GROUPS, StagingError, anatomic_stage, parse_tnm, stage_at_least_ii

TIS = ["Tis", "Tis(DCIS)", "Tis(Paget)"]
T1 = ["T1", "T1mi", "T1a", "T1b", "T1c"]
T4 = ["T4", "T4a", "T4b", "T4c", "T4d"]
ALL_T = ["TX", "T0", *TIS, *T1, "T2", "T3", *T4]
N0 = ["N0", "N0(i-)", "N0(i+)", "N0(mol-)", "N0(mol+)"]
N1 = ["N1", "N1a", "N1b", "N1c"]  # macrometastases; N1mi is listed separately
N2 = ["N2", "N2a", "N2b"]
N3 = ["N3", "N3a", "N3b", "N3c"]
ALL_N = ["NX", *N0, "N1mi", *N1, *N2, *N3]
M0 = ["M0", "M0(i+)", "cM0", "cM0(i+)"]
M1 = ["M1", "cM1", "pM1"]

AJCC_ROWS = [
    (TIS, N0, M0, "0"),
    (T1, N0, M0, "IA"),
    (["T0"], ["N1mi"], M0, "IB"),
    (T1, ["N1mi"], M0, "IB"),
    (["T0"], N1, M0, "IIA"),
    (T1, N1, M0, "IIA"),
    (["T2"], N0, M0, "IIA"),
    (["T2"], [*N1, "N1mi"], M0, "IIB"),
    (["T3"], N0, M0, "IIB"),
    (["T0"], N2, M0, "IIIA"),
    (T1, N2, M0, "IIIA"),
    (["T2"], N2, M0, "IIIA"),
    (["T3"], [*N1, "N1mi"], M0, "IIIA"),
    (["T3"], N2, M0, "IIIA"),
    (T4, N0, M0, "IIIB"),
    (T4, [*N1, "N1mi"], M0, "IIIB"),
    (T4, N2, M0, "IIIB"),
    (ALL_T, N3, M0, "IIIC"),
    (ALL_T, ALL_N, M1, "IV"),
]


def expected_stages():
    expected = {}
    for ts, ns, ms, stage in AJCC_ROWS:
        for combination in itertools.product(ts, ns, ms):
            assert combination not in expected  # the rows do not overlap
            expected[combination] = stage
    return expected


EXPECTED = expected_stages()


@pytest.mark.parametrize(
    ("ts", "ns", "ms", "stage"),
    AJCC_ROWS,
    ids=[
        f"row{i + 1}-{row[3]}-{row[0][0]}-{row[1][0]}-{row[2][0]}"
        for i, row in enumerate(AJCC_ROWS)
    ],
)
def test_every_row_of_the_ajcc_anatomic_table(ts, ns, ms, stage):
    for t, n, m in itertools.product(ts, ns, ms):
        assert anatomic_stage(t, n, m) == stage, (t, n, m)


def documented_gap(t, n):
    """Combinations with no row in the table: T0 N0, Tis with nodal disease, TX or NX outside the
    "Any T" / "Any N" rows (with M0 only N3 has an "Any T" row)."""
    return (
        (t == "T0" and n in N0)
        or (t in TIS and n in ["N1mi", *N1, *N2])
        or (t == "TX" and n not in N3)
        or (n == "NX" and t != "TX")
    )


def test_every_other_combination_has_no_stage_group():
    missing = []
    for t, n, m in itertools.product(ALL_T, ALL_N, M0):
        if (t, n, m) not in EXPECTED:
            with pytest.raises(StagingError, match="no stage group in the AJCC 8th edition"):
                anatomic_stage(t, n, m)
            missing.append((t, n))
    gaps = {(t, n) for t, n in itertools.product(ALL_T, ALL_N) if documented_gap(t, n)}
    assert set(missing) == gaps


@pytest.mark.parametrize(
    ("t", "n", "m", "stage"),
    [
        ("pT1c", "pN1a", "cM0", "IIA"),
        ("cT2", "cN0", "cM0", "IIA"),
        ("t1C", "n1MI", "m0", "IB"),
        ("Tis (DCIS)", "pN0", "M0", "0"),
        ("pT1b", "pN0(i+)(sn)", "cM0", "IA"),
        ("pT1mi", "pN1mi(sn)", "cM0", "IB"),
        ("cT3", "cN1mi", "cM0", "IIIA"),
        ("pT2", "pN1(f)", "M0", "IIB"),
        ("TX", "NX", "pM1", "IV"),
    ],
)
def test_prefixes_case_spaces_and_modifiers(t, n, m, stage):
    assert anatomic_stage(t, n, m) == stage


def test_parse_normalises_the_codes():
    tnm = parse_tnm(" pt4D ", "pn3B", "cm0(I+)")
    assert (tnm.t, tnm.n, tnm.m) == ("T4d", "N3b", "M0(i+)")
    assert (tnm.t_prefix, tnm.n_prefix, tnm.m_prefix) == ("p", "p", "c")
    assert str(tnm) == "pT4d pN3b cM0(i+)"


@pytest.mark.parametrize(
    ("t", "n", "m", "fragments"),
    [
        ("T5", "N0", "M0", ["unknown T category 'T5'", "TX, T0, Tis", "T4d"]),
        ("T1", "N4", "M0", ["unknown N category 'N4'", "N0(mol+)", "N3c"]),
        ("T1", "N0", "MX", ["unknown M category 'MX'", "M0, M0(i+), M1"]),
        ("Tis(LCIS)", "N0", "M0", ["unknown T category 'Tis(LCIS)'"]),
        ("T1", "N0", "pM0", ["pM0 is not valid"]),
        ("T1", "cN1a", "M0", ["N1a is a pathological category (use pN1a)"]),
        ("T1", "cN0(i+)", "M0", ["N0(i+) is a pathological category"]),
        ("ypT1", "N0", "M0", ["post-neoadjuvant (y) category", "stage at diagnosis"]),
        ("T1", "ycN0", "M0", ["post-neoadjuvant"]),
        ("", "N0", "M0", ["T category must be a text"]),
        ("T1", None, "M0", ["N category must be a text such as N1, got None"]),
    ],
)
def test_unknown_codes_are_named_with_the_allowed_ones(t, n, m, fragments):
    with pytest.raises(StagingError) as info:
        anatomic_stage(t, n, m)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("stage", "at_least_ii"),
    [("0", False), ("IA", False), ("IB", False), ("IIA", True), ("IIB", True), ("IIIA", True),
     ("IIIB", True), ("IIIC", True), ("IV", True)],
)  # fmt: skip
def test_stage_at_least_ii(stage, at_least_ii):
    assert stage_at_least_ii(stage) is at_least_ii


def test_stage_groups_in_order_and_unknown_stage():
    assert STAGE_GROUPS == ("0", "IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV")
    with pytest.raises(StagingError, match=r"unknown stage group 'II'; allowed: 0, IA"):
        stage_at_least_ii("II")


def test_endpoint_examples():
    # Primary endpoint: a T1 N1mi cancer (IB) does not count; a T2 N0 (IIA) does.
    assert not stage_at_least_ii(anatomic_stage("pT1c", "pN1mi", "cM0"))
    assert stage_at_least_ii(anatomic_stage("pT2", "pN0", "cM0"))
