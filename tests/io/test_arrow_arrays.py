"""numpy <-> Arrow from buffers (:mod:`pebs.io.arrow_arrays`): the same arrays as pyarrow's own
conversions (the reference), sliced arrays and nulls included; and the streaming CSV commands
never load pandas."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from pebs.io.arrow_arrays import bools, floats, from_bools, from_floats, from_texts, text_scalar


def test_floats_round_trip_with_nan_as_null():
    values = np.array([1.5, math.nan, -0.0, 5e-324, math.inf])
    array = from_floats(values)
    assert array.equals(pa.array(values, from_pandas=True))
    assert array.null_count == 1
    np.testing.assert_array_equal(floats(array), values)
    np.testing.assert_array_equal(floats(array.slice(1, 3)), values[1:4])
    np.testing.assert_array_equal(floats(pa.chunked_array([array[:2], array[2:]])), values)


def test_booleans_round_trip_and_a_null_reads_as_false():
    values = np.array([True, False, True] * 7)
    array = from_bools(values)
    assert array.equals(pa.array(values))
    np.testing.assert_array_equal(bools(array.slice(5, 11)), values[5:16])
    np.testing.assert_array_equal(bools(pa.array([True, None, False, True])), [1, 0, 0, 1])


@pytest.mark.parametrize(
    "values",
    [
        ["a", "", "xyz"],
        ["é", "٣", "a,b"],
        ["a", None, math.nan, ""],
        [],
        ["", ""],
        [""],
        ["a\0b", "", "\0"],
        ["é\0", None],
    ],
)
def test_texts_are_the_arrow_strings_pyarrow_makes(values):
    array = from_texts(np.array(values, dtype=object))
    assert array.equals(pa.array(values, type=pa.string(), from_pandas=True))
    assert from_texts(values).equals(array)


def test_a_value_that_is_not_text_is_refused():
    with pytest.raises(TypeError, match="expected text, got int 3"):
        from_texts(["a", 3])


def test_other_types_are_refused_by_the_readers():
    with pytest.raises(TypeError, match="expected float64"):
        floats(pa.array([1, 2]))
    with pytest.raises(TypeError, match="expected boolean"):
        bools(pa.array([1.0]))


def test_a_text_scalar():
    assert text_scalar("nan") == pa.scalar("nan")


_NO_PANDAS = """
import sys
from pathlib import Path
from pebs.services.assessment import assess_csv
from pebs.services.gail_scoring import score_gail_csv
folder = Path(sys.argv[1])
score_gail_csv(folder / "gail.csv", folder / "gail-out.csv")
assess_csv(folder / "assess.csv", folder / "assess-out.csv", country="FR")
assess_csv(folder / "assess.csv", folder / "strict-out.csv", country="FR", strict=True)
import io
import numpy as np
from pebs.io.arrow_arrays import from_codes
from pebs.io.csv_columns import write_columns
repeated = np.resize([1.5, float("nan"), 2.25], 10_000)  # enough rows to count as repeating
labels = from_codes(np.resize([0, 1, 2], 10_000), ["a", "", "b"])
write_columns(io.StringIO(), {"x": repeated, "y": repeated, "label": labels}, header=True)
print("pandas" in sys.modules)
"""


def test_scoring_a_file_never_loads_pandas(tmp_path):
    # pyarrow's own conversions load pandas (a quarter of a second of each command-line run)
    (tmp_path / "gail.csv").write_text(
        "id,T1,T2,N_Biop,HypPlas,AgeMen,Age1st,N_Rels,Race\n"
        "a,40,45,1,0,12,25,1,1\nb,50,55,0,99,99,98,0,2\nc,30,20,0,99,12,25,0,1\n"
    )
    (tmp_path / "assess.csv").write_text(
        "id,age,n_biopsies,atypical_hyperplasia,age_menarche,age_first_birth,"
        "n_first_degree_relatives,density,prs_z\n"
        "A,45,0,,13,25,0,b,-0.5\nB,52.5,1,No,12,nulliparous,1,C,\nC,61,unknown,,,31,2,?,1\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", _NO_PANDAS, str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.split() == ["False"]
    assert (tmp_path / "gail-out.csv").read_text().count("\n") == 4
    assert (tmp_path / "strict-out.csv").read_text().count("absent (empty with --strict)") == 2
