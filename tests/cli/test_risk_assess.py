"""`pebs risk assess`: friendly spellings, output columns, missing inputs and error paths."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pebs.cli import main
from pebs.risk import personalised

HEADER = (
    "id,age,n_biopsies,atypical_hyperplasia,age_menarche,age_first_birth,"
    "n_first_degree_relatives,density"
)
OUTPUT = [
    "risk_5y", "risk_5y_pct", "level", "rr_classical", "rr_prs", "rr_density", "model",
    "missing", "error",
]  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def table(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def run(tmp_path, text, *args):
    source = write(tmp_path / "women.csv", text)
    output = tmp_path / "out.csv"
    code = main(["risk", "assess", str(source), "-o", str(output), *args])
    return code, output


def test_spellings_and_output_match_the_python_api(tmp_path, capsys):
    rows = (
        "A,45,0,,13,25,0,b,0.5\n"
        "B,52.5,1,no,12,nulliparous,1,C,\n"
        "C,61,unknown,Unknown,,31,2,,1.2\n"
        "D,70,2,YES,11,NONE,0,d,-1\n"
    )
    code, output = run(tmp_path, f"{HEADER},prs_z\n{rows}", "--country", "fr")
    assert code == 0
    scored = table(output.read_text())
    assert list(scored.columns) == [*HEADER.split(","), "prs_z", *OUTPUT]
    model = personalised.country_model("FR")
    expected = personalised.assess(
        model, age=[45, 52.5, 61, 70], n_biopsies=[0, 1, np.nan, 2],
        atypical_hyperplasia=[np.nan, 0, np.nan, 1], age_at_menarche=[13, 12, np.nan, 11],
        age_at_first_birth=[25, np.nan, 31, np.nan], nulliparous=[False, True, False, True],
        n_relatives=[0, 1, 2, 0], density=["b", "c", "", "d"], prs_z=[0.5, np.nan, 1.2, -1],
    )  # fmt: skip
    np.testing.assert_array_equal(scored["risk_5y"].astype(float), expected.risk_5y)
    np.testing.assert_array_equal(scored["risk_5y_pct"].astype(float), expected.risk_5y_pct)
    assert list(scored["level"]) == list(expected.level)
    # Every input scored as unknown, classical factors included (C: biopsies "unknown", menarche
    # and density empty; her hyperplasia is not counted, the model cannot know she had a biopsy).
    assert list(scored["missing"]) == ["", "prs_z", "n_biopsies;age_menarche;density", ""]
    assert list(scored["rr_density"]) == ["2.2", "3.0", "", "4.0"]
    assert (scored["model"] == f"pebs-personalised-5y v{personalised.MODEL_VERSION} FR").all()
    assert (scored["error"] == "").all()
    err = capsys.readouterr().err
    assert "4 rows: 4 assessed, 0 rejected" in err
    assert (
        "unknown inputs of assessed rows (risk from the missing-covariate rule): "
        "n_biopsies 1, atypical_hyperplasia 0, age_menarche 1, age_first_birth 0, "
        "n_first_degree_relatives 0, density 1, prs_z 1"
    ) in err


def test_rejected_rows_keep_their_place(tmp_path, capsys):
    code, output = run(tmp_path, f"{HEADER}\nA,38,0,,13,25,0,b\nB,50,0,yes,13,25,0,b\n", "-c", "IT")
    assert code == 0
    scored = table(output.read_text())
    assert scored["risk_5y"].tolist() == ["", ""]
    assert scored["error"][0].startswith("age must be")
    assert "atypical_hyperplasia" in scored["error"][1]
    assert "2 rejected" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("row", "fragments"),
    [
        ("A,45,0,maybe,13,25,0,b", ["'atypical_hyperplasia'", "'maybe'", "yes, no"]),
        ("A,45,0,,13,25,0,e", ["'density'", "'e'", "a, b, c, d"]),
        ("A,45,0,,13,twenty,0,b", ["'age_first_birth'", "'twenty'", "nulliparous"]),
        ("A,forty,0,,13,25,0,b", ["line 2", "'age'", "'forty'"]),
    ],
)
def test_bad_spellings_name_line_column_value_and_allowed(tmp_path, capsys, row, fragments):
    code, output = run(tmp_path, f"{HEADER}\n{row}\n", "--country", "FR")
    err = capsys.readouterr().err
    assert code == 65
    assert err.count("\n") == 1
    for fragment in fragments:
        assert fragment in err
    assert not output.exists()


def test_a_huge_bad_spelling_is_quoted_in_about_80_characters(tmp_path, capsys):
    huge = "e" * 2_000_000
    code, output = run(tmp_path, f"{HEADER}\nA,45,0,,13,25,0,{huge}\n", "--country", "FR")
    err = capsys.readouterr().err
    assert code == 65
    assert "column 'density' has '" + "e" * 80 + "'... (2,000,000 characters); allowed" in err
    assert len(err) < 400
    assert not output.exists()


def test_unknown_country_lists_the_available_ones(tmp_path, capsys):
    code, _ = run(tmp_path, f"{HEADER}\nA,45,0,,13,25,0,b\n", "--country", "DE")
    assert code == 65
    err = capsys.readouterr().err
    assert "'DE'" in err
    assert "FR" in err
    assert "UK" in err


def test_missing_column(tmp_path, capsys):
    code, output = run(tmp_path, "id,age\nA,45\n", "--country", "FR")
    assert code == 65
    assert "missing column(s) n_biopsies" in capsys.readouterr().err
    assert not output.exists()


def test_country_is_required(tmp_path, capsys):
    source = write(tmp_path / "women.csv", f"{HEADER}\nA,45,0,,13,25,0,b\n")
    assert main(["risk", "assess", str(source)]) == 2
    assert "--country" in capsys.readouterr().err


def test_genotypes_give_the_prs_by_sample_id(tmp_path, capsys):
    data = Path(__file__).parents[1] / "data" / "prs"
    reference = pd.read_csv(data / "reference_scores_sample.csv")
    reference = reference[reference["vcf"] == "synthetic_bcac313_gt.vcf"].set_index("sample")
    ids = list(reference.index[:3])
    rows = "".join(f"{i},55,0,,13,25,0,b\n" for i in [*ids, "NOT_IN_VCF"])
    code, output = run(
        tmp_path, f"{HEADER}\n{rows}", "-c", "UK", "--genotypes",
        str(data / "synthetic_bcac313_gt.vcf"),
    )  # fmt: skip
    assert code == 0
    scored = table(output.read_text())
    # rr_prs = 1.61 ** z with CanRisk's z-scores (vcf2prs) for those samples.
    expected = 1.61 ** reference.loc[ids, "z_score"].to_numpy()
    np.testing.assert_allclose(scored["rr_prs"][:3].astype(float), expected, rtol=1e-9)
    assert list(scored["missing"]) == ["", "", "", "prs_z"]
    assert "3 of 4 rows matched a sample" in capsys.readouterr().err


def test_genotypes_and_prs_column_conflict(tmp_path, capsys):
    vcf = Path(__file__).parents[1] / "data" / "prs" / "synthetic_bcac313_gt.vcf"
    text = f"{HEADER},prs_z\nS001,55,0,,13,25,0,b,0.1\n"
    code, _ = run(tmp_path, text, "-c", "UK", "--genotypes", str(vcf))
    assert code == 65
    assert "use one source of PRS" in capsys.readouterr().err


def test_strict_empty_fields_are_absent_and_named_per_row(tmp_path, capsys):
    rows = (
        "A,45,0,,13,25,0,b,0.5\n"  # complete (hyperplasia not asked after no biopsy)
        "B,52,1,no,12,nulliparous,1,c,\n"  # PRS empty
        "C,61,1,,,31,2,d,1.2\n"  # hyperplasia (after a biopsy) and menarche empty
        "D,55,unknown,unknown,?,NA,0,a,n/a\n"  # explicit unknowns: never absent
    )
    code, output = run(tmp_path, f"{HEADER},prs_z\n{rows}", "-c", "FR", "--strict")
    assert code == 0
    scored = table(output.read_text())
    assert list(scored["id"]) == ["A", "B", "C", "D"]  # no row dropped
    assert list(scored["error"][:3]) == [
        "",
        "absent (empty with --strict): prs_z",
        "absent (empty with --strict): atypical_hyperplasia;age_menarche",
    ]
    assert list(scored["level"][1:3]) == ["", ""]
    assert list(scored["risk_5y"][1:3]) == ["", ""]
    assert scored["level"][0] != ""
    assert scored["level"][3] != ""
    assert scored["missing"][3] == "n_biopsies;age_menarche;age_first_birth;prs_z"
    err = capsys.readouterr().err
    assert "4 rows: 2 assessed, 2 rejected" in err
    assert "2  empty field(s) with --strict" in err
    # Without --strict the same empty fields are unknown: every row gets a level.
    code, output = run(tmp_path, f"{HEADER},prs_z\n{rows}", "-c", "FR")
    assert (table(output.read_text())["level"] != "").all()


def test_no_classical_factor_known_gets_no_level_and_lists_every_unknown(tmp_path, capsys):
    rows = "A,50,unknown,,?,unknown,,b,0.2\nB,50,0,,13,25,0,b,0.2\n"
    code, output = run(tmp_path, f"{HEADER},prs_z\n{rows}", "-c", "IT")
    assert code == 0
    scored = table(output.read_text())
    assert scored["level"][0] == ""
    assert scored["level"][1] != ""
    assert scored["error"][0].startswith("no classical risk factor is known")
    assert scored["missing"][0] == (
        "n_biopsies;age_menarche;age_first_birth;n_first_degree_relatives"
    )
    assert "2 rows: 1 assessed, 1 rejected" in capsys.readouterr().err


def test_output_columns_follow_the_models_input_order():
    from pebs.io.assessment_csv import INPUT_COLUMNS

    assert INPUT_COLUMNS == personalised.INPUTS


def test_the_output_is_the_same_to_the_byte_whatever_the_chunk_size(tmp_path, capsys):
    rng = np.random.default_rng(5)

    def cell(value: object) -> str:
        return "unknown" if rng.random() < 0.3 else str(value)

    lines = [HEADER + ",prs_z"]
    for i in range(300):
        lines.append(",".join([
            f"W{i}", f"{rng.uniform(40, 79.9):.2f}", cell(rng.integers(0, 3)), "",
            cell(rng.integers(10, 16)), cell(rng.integers(16, 36)), cell(rng.integers(0, 3)),
            cell("abcd"[rng.integers(0, 4)]), cell(rng.standard_normal()),
        ]))  # fmt: skip
    source = write(tmp_path / "women.csv", "\n".join(lines) + "\n")
    outputs = []
    for chunk_rows in (7, 64, 1_000):
        output = tmp_path / f"out{chunk_rows}.csv"
        code = main(["risk", "assess", str(source), "-c", "FR", "-o", str(output),
                     "--chunk-rows", str(chunk_rows)])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        outputs.append(output.read_bytes())
    assert table(outputs[0].decode())["missing"].str.count(";").max() >= 3
    assert outputs[0] == outputs[1] == outputs[2]
