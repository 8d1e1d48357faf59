"""The `pebs` entry point: version, help, and the bundled example."""

from pebs import __version__
from pebs.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"pebs {__version__}"


def test_no_arguments_shows_help(capsys):
    assert main([]) in (0, 2)
    captured = capsys.readouterr()
    assert "risk" in captured.out + captured.err


def test_example_cohort_summary(capsys):
    assert main(["risk", "example"]) == 0
    out = capsys.readouterr().out
    assert "1,000 rows: 997 scored, 3 rejected" in out
    for band in ("35-39", "40-49", "50-59", "60-69", "70+", "all"):
        assert band in out
