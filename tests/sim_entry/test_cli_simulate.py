"""``pebs simulate``: end to end on a few hundred women into a temporary directory."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pyarrow.dataset as ds
import pytest

from pebs.cli import main
from pebs.io.sim_outputs import SUMMARY_COLUMNS
from pebs.reports.sim_plots import FIGURES

N_WOMEN = 400
REPLICATES = 2
SEED = 7
STRATEGIES = ["no-screening", "biennial-50-74", "biennial-40-74", "annual-40-74"]


@pytest.fixture(scope="module")
def us_run(tmp_path_factory):
    """One CLI run of the US benchmark with records and plots (shared by the checks below)."""
    out = tmp_path_factory.mktemp("us-run")
    args = ["simulate", "us-benchmark", "-o", str(out), "--women", str(N_WOMEN),
            "--replicates", str(REPLICATES), "--seed", str(SEED), "--chunk-size", "150",
            "--records"]  # fmt: skip
    assert main(args) == 0
    return out


def _two_point_summary(a: float, b: float) -> dict[str, float]:
    """Closed forms for two replicate values: linear-interpolation percentiles, mean, s.e."""
    lo, hi = sorted((a, b))
    return {"mean": (a + b) / 2, "low": lo + 0.025 * (hi - lo), "high": lo + 0.975 * (hi - lo),
            "se": (hi - lo) / 2}  # fmt: skip


def test_summary_csv_matches_the_json_totals_by_hand(us_run, sim_files):
    rows, document = sim_files.read_summary(us_run)
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    assert document["seed"] == SEED
    assert document["n_women"] == N_WOMEN
    assert document["n_replicates"] == REPLICATES
    assert list(document["strategies"]) == STRATEGIES
    totals = document["replicate_totals"]
    assert [s for s in totals] == STRATEGIES
    for strategy in STRATEGIES:  # no trial arms: every strategy applies to every woman
        assert totals[strategy]["n_women"] == [N_WOMEN] * REPLICATES
    checked = 0
    for row in rows:
        assert row["scenario"] == "us-benchmark"
        assert int(row["n_replicates"]) == REPLICATES
        per_woman = 1000.0 / N_WOMEN
        assert float(row["per_1000_mean"]) == pytest.approx(float(row["total_mean"]) * per_woman)
        counts = totals[row["strategy"]].get(row["outcome"])
        if counts is None:  # derived outcomes are checked below
            continue
        expected = _two_point_summary(*counts)
        for key, value in expected.items():
            assert float(row[f"total_{key}"]) == pytest.approx(value, abs=1e-9), (row, key)
        checked += 1
    n_count_outcomes = len(totals["no-screening"]) - 2  # n_women, life_years_micro not reported
    assert checked == len(STRATEGIES) * n_count_outcomes
    assert len(rows) == len(STRATEGIES) * (n_count_outcomes + 3)  # + the 3 derived outcomes


def test_derived_outcomes_by_hand(us_run, sim_files):
    rows, document = sim_files.read_summary(us_run)
    totals = document["replicate_totals"]
    by_key = {(r["strategy"], r["outcome"]): r for r in rows}
    ref_deaths = np.array(totals["no-screening"]["bc_deaths"], float)
    ref_years = np.array(totals["no-screening"]["life_years_micro"], float) / 1e6
    for strategy in STRATEGIES[1:]:
        averted = ref_deaths - np.array(totals[strategy]["bc_deaths"], float)
        gained = np.array(totals[strategy]["life_years_micro"], float) / 1e6 - ref_years
        for outcome, values in (("deaths_averted", averted), ("life_years_gained", gained)):
            row = by_key[(strategy, outcome)]
            assert float(row["total_mean"]) == pytest.approx(values.mean(), abs=1e-6)
            assert float(row["per_1000_mean"]) == pytest.approx(
                values.mean() * 1000 / N_WOMEN, abs=1e-6
            )
    # Common random numbers: the same women, so screening cannot create breast-cancer deaths
    # among women without cancer; the totals are whole numbers of women.
    for strategy in STRATEGIES:
        assert all(0 <= d <= N_WOMEN for d in totals[strategy]["bc_deaths"])


def test_plots_are_valid_png_and_svg(us_run, sim_files):
    for name in FIGURES:
        width, height = sim_files.png_size(us_run / f"{name}.png")
        assert width >= 600
        assert height >= 300
        root = sim_files.svg_root(us_run / f"{name}.svg")
        assert root.get("width")
        assert root.get("height")
        text = (us_run / f"{name}.svg").read_text(encoding="utf-8")
        for strategy in STRATEGIES[1:]:  # every strategy is labelled
            assert strategy in text, (name, strategy)


def test_records_are_partitioned_per_chunk_and_add_up_to_the_totals(us_run, sim_files):
    _, document = sim_files.read_summary(us_run)
    totals = document["replicate_totals"]
    parts = sorted(p.relative_to(us_run / "women").as_posix()
                   for p in (us_run / "women").rglob("*.parquet"))  # fmt: skip
    starts = [f"part-{s:012d}.parquet" for s in range(0, N_WOMEN, 150)]  # chunks of 150
    assert parts == [f"replicate={r}/{s}" for r in range(REPLICATES) for s in starts]
    assert not list(us_run.glob("*.partial"))
    assert not list(us_run.rglob("*.part"))
    table = ds.dataset(us_run / "women", partitioning="hive").to_table()
    assert table.num_rows == N_WOMEN * REPLICATES
    replicate = table.column("replicate").to_numpy()
    women = table.column("women").to_numpy()
    assert set(table.column("country").to_pylist()) == {"US"}
    for r in range(REPLICATES):
        mine = replicate == r
        assert np.array_equal(np.sort(women[mine]), np.arange(N_WOMEN))  # no row lost or doubled
        for strategy in STRATEGIES:
            fp = table.column(f"{strategy}.n_false_positives").to_numpy()[mine].sum()
            deaths = table.column(f"{strategy}.bc_death").to_numpy()[mine].sum()
            assert fp == totals[strategy]["false_positives"][r]
            assert deaths == totals[strategy]["bc_deaths"][r]


def test_output_table_and_messages(tmp_path, capsys):
    args = ["simulate", "us-benchmark", "-o", str(tmp_path), "--women", "120", "--no-plots"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "us-benchmark: 120 women x 1 replicate(s), seed 1" in captured.out
    for strategy in STRATEGIES:
        assert strategy in captured.out
    assert "deaths averted" in captured.out
    assert "120 women x 4 strategies" in captured.err
    assert "serial (this process)" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv", "summary.json"]


def test_workers_below_the_threshold_stay_in_this_process(us_run, tmp_path, sim_files, capsys):
    out = tmp_path / "workers"
    args = ["simulate", "us-benchmark", "-o", str(out), "--women", str(N_WOMEN),
            "--replicates", str(REPLICATES), "--seed", str(SEED), "--workers", "2",
            "--no-plots"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    # 400 women x 2 replicates x 4 strategies = 3,200, far below ten million
    assert "serial (this process): 3,200 women x replicates x strategies, below the " in err
    assert "10,000,000 from which --workers starts a cluster" in err
    assert "cluster started" not in err
    _, document = sim_files.read_summary(out)
    assert document["run"]["threads"] == 1
    assert document["run"]["cluster_start_seconds"] == 0
    assert document["run"]["cluster_close_seconds"] == 0
    _, reference = sim_files.read_summary(us_run)  # same run without --workers
    assert document["replicate_totals"] == reference["replicate_totals"]


def test_same_seed_same_results_for_other_chunk_sizes(tmp_path, sim_files):
    outputs = []
    for chunk in ("37", "1000"):
        out = tmp_path / chunk
        args = ["simulate", "us-benchmark", "-o", str(out), "--women", "150", "--seed", "3",
                "--chunk-size", chunk, "--no-plots"]  # fmt: skip
        assert main(args) == 0
        outputs.append(sim_files.read_summary(out))
    (rows_a, doc_a), (rows_b, doc_b) = outputs
    assert doc_a["replicate_totals"] == doc_b["replicate_totals"]
    assert rows_a == rows_b


def test_trial_scenario_writes_the_trial_analysis(tmp_path, sim_files):
    args = ["simulate", "mypebs-trial", "-o", str(tmp_path), "--women", "300", "--no-plots"]
    assert main(args) == 0
    _rows, document = sim_files.read_summary(tmp_path)
    trial = document["trial"]
    assert trial["arms"] == ["standard", "risk-based"]
    (replicate,) = trial["replicates"]
    n = document["replicate_totals"]
    # every woman is in exactly one arm: analysed, or excluded for a cancer found before entry
    excluded = sum(n[arm].get("excluded_history", [0])[0] for arm in trial["arms"])
    assert replicate["n_ref"] + replicate["n_new"] + excluded == 300
    assert replicate["n_ref"] == n["standard"]["n_women"][0]
    assert replicate["events_new"] == n["risk-based"]["stage2plus"][0]
    assert (tmp_path / "trial.csv").read_text(encoding="utf-8").startswith("replicate,arm_ref")


def test_list_names_every_shipped_scenario(capsys):
    assert main(["simulate", "--list"]) == 0
    out = capsys.readouterr().out
    folder = files("pebs.sim").joinpath("scenarios")
    shipped = [p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")]
    assert len(shipped) >= 4
    for name in shipped:
        assert name in out
    assert "yes" in out  # the trial scenario is marked


def test_default_output_directory_is_under_the_data_dir(quiet_data_dir, capsys):
    assert main(["simulate", "us-benchmark", "--women", "50", "--no-plots"]) == 0
    assert (quiet_data_dir / "simulations" / "us-benchmark" / "summary.json").is_file()


def test_scenario_file_by_path(tmp_path, sim_files):
    scenario = tmp_path / "mine.toml"
    scenario.write_text(
        'name = "mine"\n[population]\ncountries = { UK = 1.0 }\nentry_age = [50, 50]\n'
        'follow_up_years = 10\n[[strategy]]\nname = "uk"\npolicy = "uk-england"\n',
        encoding="utf-8",
    )
    assert main(["simulate", str(scenario), "-o", str(tmp_path / "o"), "--women", "80",
                 "--no-plots"]) == 0  # fmt: skip
    _, document = sim_files.read_summary(tmp_path / "o")
    assert list(document["strategies"]) == ["no-screening", "uk"]
    assert document["run"]["source"] == str(scenario)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["simulate", "no-such-scenario"], 65, "unknown scenario 'no-such-scenario'"),
        (["simulate"], 2, "SCENARIO"),
        (["simulate", "us-benchmark", "--workers", "2", "--scheduler", "tcp://x:1"], 2,
         "--workers or --scheduler"),
        (["simulate", "us-benchmark", "--women", "0"], 2, "--women"),
    ],
)  # fmt: skip
def test_errors_are_one_line_with_an_exit_code(args, code, message, tmp_path, capsys):
    assert main([*args, "-o", str(tmp_path)]) == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "summary.csv").exists()


def test_bad_scenario_file_names_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[population]\ncountries = { XX = 1.0 }\n", encoding="utf-8")
    assert main(["simulate", str(bad), "-o", str(tmp_path / "o")]) == 65
    err = capsys.readouterr().err
    assert "population.countries" in err
    assert "XX" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "calibrate"], "give a targets file"),
        (["simulate", "calibrate", "nowhere"], "unknown targets 'nowhere'"),
        (["simulate", "us-benchmark", "europe"], "only 'calibrate' takes a targets file"),
    ],
)
def test_calibrate_refuses_bad_arguments_in_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert "Traceback" not in err
