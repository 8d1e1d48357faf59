"""``pebs stats design``: the table against rpact's numbers, and one-line errors."""

from __future__ import annotations

from pebs.cli import main


def test_design_table_shows_rpacts_boundaries_and_sample_size(capsys):
    code = main(
        ["stats", "design", "--type", "asOF", "--looks", "3", "--alpha", "0.025",
         "--p-new", "0.0048", "--p-ref", "0.0048", "--margin", "1.25"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    # rpact 3.3.4, getDesignGroupSequential(kMax = 3, typeOfDesign = "asOF"): 3.7103, 2.5114,
    # 1.9930; getSampleSizeRates(..., pi1 = pi2 = 0.0048, thetaH0 = 1.25, riskRatio = TRUE):
    # nFixed 131160.29, maxNumberOfSubjects 132838.46, expectedNumberOfSubjectsH1 113528.28.
    for text in ("3.7103", "2.5114", "1.9930", "0.025000", "0.8000"):
        assert text in out
    for text in ("single look 131,160.3", "maximum 132,838.5", "H1 113,528.3", "66,419.2"):
        assert text in out


def test_design_from_information_rates(capsys):
    assert main(["stats", "design", "--type", "P", "--information-rates", "0.5,1"]) == 0
    out = capsys.readouterr().out
    # rpact: getDesignGroupSequential(kMax = 2, typeOfDesign = "P")$criticalValues 2.1783
    assert out.count("2.1783") == 2
    assert "women" not in out


def test_bad_input_is_one_line_naming_the_argument(capsys):
    cases = [
        (["--information-rates", "0.5,0.4,1"], "information_rates: expected strictly increasing"),
        (["--information-rates", "half,1"], "information_rates: expected comma-separated"),
        ([], "looks: give the number of looks or information_rates"),
        (["--looks", "11"], "looks: expected 1 to 10"),
        (["--looks", "2", "--p-new", "0.0048"], "p_new, p_ref, margin: give all three"),
        (["--looks", "2", "--alpha", "0.7"], "alpha: one-sided level must be in (0, 0.5)"),
        (
            ["--looks", "2", "--p-new", "0.0048", "--p-ref", "0.0048", "--margin", "0.9"],
            "margin: a relative margin must be > 1",
        ),
    ]
    for arguments, message in cases:
        assert main(["stats", "design", *arguments]) == 65
        err = capsys.readouterr().err
        assert message in err
        assert err.count("\n") == 1
        assert "Traceback" not in err


def test_unknown_type_lists_the_allowed_ones(capsys):
    assert main(["stats", "design", "--type", "HP", "--looks", "2"]) == 2
    err = capsys.readouterr().err
    assert "'HP' is not one of 'asOF', 'asP', 'OF', 'P'" in err
