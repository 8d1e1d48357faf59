"""The readers of ``pebs risk assess`` and ``pebs risk gail`` files give the models' frozen inputs
(:class:`pebs.risk.inputs.RiskInputs`, :class:`pebs.risk.gail.BcraInputs`); expected values are
the documented spellings of :mod:`pebs.io.assessment_csv` and BCRA's codes."""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pebs.io.assessment_csv import _normalised, parse_assessment_table
from pebs.io.csv_table import read_csv_chunks
from pebs.io.errors import InputFormatError
from pebs.io.gail_csv import INPUT_COLUMNS, bcra_inputs
from pebs.risk.gail import BcraInputs
from pebs.risk.inputs import RiskInputs

ASSESS = (
    "id,age,n_biopsies,atypical_hyperplasia,age_menarche,age_first_birth,"
    "n_first_degree_relatives,density,prs_z\n"
    "A,45,0,,13,25,0,b,0.5\n"
    "B,52.5,1,No,12,nulliparous,1,C,\n"
    "C,61,unknown,YES,n/a,31,2,?,-1\n"
)


def _table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_an_assessment_chunk_gives_risk_inputs():
    inputs = parse_assessment_table(_table(ASSESS), Path("women.csv"), 2)
    assert isinstance(inputs, RiskInputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        inputs.age = np.zeros(3)  # type: ignore[misc]
    np.testing.assert_array_equal(inputs.age, [45, 52.5, 61])
    np.testing.assert_array_equal(inputs.n_biopsies, [0, 1, np.nan])
    np.testing.assert_array_equal(inputs.atypical_hyperplasia, [np.nan, 0, 1])
    np.testing.assert_array_equal(inputs.age_at_menarche, [13, 12, np.nan])
    np.testing.assert_array_equal(inputs.age_at_first_birth, [25, np.nan, 31])
    np.testing.assert_array_equal(inputs.nulliparous, [False, True, False])
    np.testing.assert_array_equal(inputs.n_relatives, [0, 1, 2])
    np.testing.assert_array_equal(inputs.density, [1, 2, -1])  # BI-RADS b, c; unknown
    np.testing.assert_array_equal(inputs.prs_z, [0.5, np.nan, -1])


def test_without_a_prs_column_the_prs_is_unknown():
    without = _table(ASSESS).drop(columns="prs_z")
    inputs = parse_assessment_table(without, Path("w.csv"), 2)
    assert inputs.prs_z is None
    np.testing.assert_array_equal(inputs.checked().prs_z, [np.nan] * 3)


def test_a_bad_spelling_names_the_line_and_column():
    with pytest.raises(InputFormatError, match=r"line 3.*atypical_hyperplasia"):
        parse_assessment_table(_table(ASSESS.replace("No,", "maybe,")), Path("w.csv"), 2)


def test_a_gail_chunk_gives_bcra_inputs(tmp_path):
    assert INPUT_COLUMNS == ("T1", "T2", "N_Biop", "HypPlas", "AgeMen", "Age1st", "N_Rels", "Race")
    path = tmp_path / "in.csv"
    path.write_text("id,T1,T2,N_Biop,HypPlas,AgeMen,Age1st,N_Rels,Race\n"
                    "a,40,45,1,0,12,98,1,1\nb,55.5,90,99,99,99,22,2,6\n")  # fmt: skip
    (chunk,) = read_csv_chunks(path, INPUT_COLUMNS)
    inputs = bcra_inputs(chunk)
    assert isinstance(inputs, BcraInputs)
    np.testing.assert_array_equal(inputs.T1, [40, 55.5])
    np.testing.assert_array_equal(inputs.Age1st, [98, 22])
    np.testing.assert_array_equal(inputs.Race, [1, 6])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" \t\x0b\x1c\x1faAzZ09?/éÉ\u00a0", max_size=6), max_size=20))
def test_spellings_are_trimmed_and_lowered_as_python_does(values):
    # plain ASCII takes a faster path than other text; both must agree with str.strip().lower()
    column = pa.array(values, type=pa.string())
    assert _normalised(column).to_pylist() == [v.strip().lower() for v in values]


def test_every_spelling_of_hyperplasia_and_density_in_any_case():
    yes, no, unknown = ("yes", "Y", " 1", "TRUE"), ("no", "N ", "0", "False"), ("", "?", "N/A")
    letters = (" a", "B", "c ", "D")
    n = len(yes + no + unknown)
    table = pd.DataFrame({
        "id": [f"W{i}" for i in range(n)], "age": ["50"] * n, "n_biopsies": ["1"] * n,
        "atypical_hyperplasia": [*yes, *no, *unknown], "age_menarche": ["12"] * n,
        "age_first_birth": ["nulliparous"] * n, "n_first_degree_relatives": ["0"] * n,
        "density": [*letters, "unknown", "", "NA", "?", *letters, "Unknown", "n/a"][:n],
    })  # fmt: skip
    inputs = parse_assessment_table(table, Path("w.csv"), 2)
    np.testing.assert_array_equal(inputs.atypical_hyperplasia, [1] * 4 + [0] * 4 + [np.nan] * 3)
    np.testing.assert_array_equal(inputs.density, [0, 1, 2, 3, -1, -1, -1, -1, 0, 1, 2])
    with pytest.raises(InputFormatError, match=r"line 4.*density.*allowed: a, b, c, d"):
        parse_assessment_table(table.assign(density=["a", "b", "e"] + ["a"] * (n - 3)),
                               Path("w.csv"), 2)  # fmt: skip


def _number(text: str, extra=()) -> float:
    """The documented reading of a number field: trimmed, any case; unknown spellings NaN."""
    text = text.strip().lower()
    return math.nan if text in ("", "unknown", "na", "n/a", "?", *extra) else float(text)


@pytest.mark.parametrize("distinct_first", [True, False])
def test_columns_of_many_or_few_distinct_values_read_as_each_value_alone(distinct_first):
    # a column read at once (many distinct values) and one read per distinct value must both
    # give every value's own reading
    rng = np.random.default_rng(11)
    n = 6000
    spelled = np.array(["", "unknown", " NA ", "?", "n/a"], dtype=object)
    ages = np.array([repr(v) for v in rng.uniform(40, 75, n).tolist()], dtype=object)
    ages[rng.random(n) < 0.02] = "52"
    prs = np.array([repr(v) for v in rng.standard_normal(n).tolist()], dtype=object)
    unknown = rng.random(n) < 0.1
    prs[unknown] = rng.choice(spelled, n)[unknown]
    biopsies = rng.choice(np.array(["0", "1", " 2", "unknown", ""], dtype=object), n)
    births = rng.choice(np.array(["25", "31.5", "Nulliparous", "never", "", "?"], dtype=object), n)
    if not distinct_first:  # repeated values first: the whole column is read per distinct value
        for column in (ages, prs):
            column[:3000] = column[0]
    table = pa.table({
        "id": [f"W{i}" for i in range(n)], "age": ages.tolist(),
        "n_biopsies": biopsies.tolist(), "atypical_hyperplasia": ["no"] * n,
        "age_menarche": ["12"] * n, "age_first_birth": births.tolist(),
        "n_first_degree_relatives": ["0"] * n, "density": ["b"] * n, "prs_z": prs.tolist(),
    })  # fmt: skip
    inputs = parse_assessment_table(table, Path("w.csv"), 2)
    np.testing.assert_array_equal(inputs.age, [_number(v) for v in ages])
    np.testing.assert_array_equal(inputs.prs_z, [_number(v) for v in prs])
    np.testing.assert_array_equal(inputs.n_biopsies, [_number(v) for v in biopsies])
    nulliparous = ("nulliparous", "none", "never")
    np.testing.assert_array_equal(
        inputs.age_at_first_birth, [_number(v, nulliparous) for v in births]
    )
    np.testing.assert_array_equal(
        inputs.nulliparous, [v.strip().lower() in nulliparous for v in births]
    )
    bad = prs.copy()
    bad[4500] = "1e400"  # not finite
    table = table.set_column(8, "prs_z", pa.array(bad.tolist()))
    with pytest.raises(InputFormatError, match=r"line 4502: column 'prs_z' has '1e400'.*1 such"):
        parse_assessment_table(table, Path("w.csv"), 2)
