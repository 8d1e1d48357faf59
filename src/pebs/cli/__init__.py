"""Command-line interface: ``pebs <noun> <verb>``.

:func:`main` takes the arguments and returns the exit code, so tests call it directly; expected
failures are one line on stderr with the exit code from :mod:`pebs.cli._errors`. Each command's
module is imported only when that command runs (or its own help is asked for): :data:`COMMANDS`
names them, so that ``pebs --version`` and ``pebs --help`` import none of them.
"""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import ClickException

from pebs.cli._errors import EXIT_INTERRUPTED, exit_code_for, message_for
from pebs.cli._lazy_group import LazyCommand, lazy_group

COMMANDS = (
    LazyCommand(
        "plan",
        "pebs.cli.screening:plan_command",
        "A woman's screening plan: dated exams with the rule and reason for each.",
    ),
    LazyCommand(
        "check",
        "pebs.cli.check:check_command",
        "Installation qualification: versions, settings, database reachable and migrated, audit\n"
        "chain intact, tables matching the audit trail, allocation lists, identity keys opening "
        "the\nstored identities, file permissions (exit 1 if a required check fails).",
    ),
    LazyCommand(
        "simulate",
        "pebs.cli.simulate:simulate_command",
        "Simulate a scenario's screening strategies; write summary.csv/json, plots and records.",
    ),
    LazyCommand(
        "validate",
        "pebs.cli.validate:validate_command",
        "Validate a five-year risk model on a cohort with follow-up: E/O with exact Poisson\n"
        "intervals overall, by age band and by risk decile; C-statistic (DeLong); with "
        "--compare,\nthe reclassification table between MyPeBS levels, the NRI and the DeLong "
        "test of the AUCs.",
    ),
    LazyCommand(
        "serve",
        "pebs.cli.serve:serve_command",
        "Serve the web site and the REST API (``/api/v1``; ``/api/openapi.json``) until Ctrl-C.",
    ),
    LazyCommand(
        "risk",
        "pebs.cli.risk:app",
        "Risk models: score files of women; trial women whose risk is pending.",
    ),
    LazyCommand(
        "policy", "pebs.cli.screening:policy_app", "Screening policies: list, show, check."
    ),
    LazyCommand("db", "pebs.cli.db:app", "The trial database: migrations, backup, restore."),
    LazyCommand(
        "study",
        "pebs.cli.study:app",
        "Study configurations: load; allocation lists; database lock.",
    ),
    LazyCommand(
        "participants",
        "pebs.cli.participants:app",
        "Participants: import an enrolment file; CanRisk pedigree files in and out.",
    ),
    LazyCommand(
        "import",
        "pebs.cli.imports:import_command",
        "Import a whole trial: register the women and take each through eligibility, consent,\n"
        "allocation (kept as the source system made it, or the next concealed slot), risk and "
        "plan,\nthen record her visits, diagnoses and death; print counts per step and refusal.",
    ),
    LazyCommand("audit", "pebs.cli.audit:app", "The tamper-evident audit trail: verify."),
    LazyCommand(
        "queries",
        "pebs.cli.queries:app",
        "Data queries: list, show, raise, answer, close, re-open; edit checks in bulk.",
    ),
    LazyCommand("report", "pebs.cli.report:app", "Reports: the missing forms of a study."),
    LazyCommand(
        "demo",
        "pebs.cli.demo:app",
        "Demo data: synthetic participants and genotype batches for trying pebs.",
    ),
    LazyCommand("export", "pebs.cli.export:app", "Exports: participant data and its dictionary."),
    LazyCommand(
        "lab",
        "pebs.cli.lab:app",
        "The central laboratory: genotype batch imports, conflicting results.",
    ),
    LazyCommand(
        "kits",
        "pebs.cli.kits:app",
        "Saliva kits: assign, collect, ship, receive, worklists, manifests.",
    ),
    LazyCommand(
        "letters",
        "pebs.cli.letters:app",
        "Letters to participants and their doctors: render, batch; consultations.",
    ),
    LazyCommand(
        "monitoring",
        "pebs.cli.monitoring:app",
        "Monitoring: source data verification, casebook signatures, form and casebook locks.",
    ),
    LazyCommand("stats", "pebs.cli.stats:app", "Trial statistics: group-sequential designs."),
    LazyCommand(
        "analyse",
        "pebs.cli.analyse:analyse_command",
        "Run the study's analysis plan: primary endpoint with non-inferiority tests, time to\n"
        "event, secondary endpoints; write results.json, CSV tables, plots and report.html.",
    ),
    LazyCommand(
        "dsmb",
        "pebs.cli.analyse:dsmb_command",
        "Write the data monitoring committee's open (pooled) or closed (by arm) report: tables\n"
        "(JSON, CSV), plots, report.html and report.pdf.",
    ),
    LazyCommand(
        "user",
        "pebs.cli.user:app",
        "Accounts: create, list, passwords, TOTP reset, disable and enable, unlock, demo logins.",
    ),
)
"""Every top-level command, in the order ``pebs --help`` lists them: name, ``module:attribute``
(a Typer app or a command function) and the first paragraph of its help (a test keeps it equal
to the command's own)."""

app = typer.Typer(
    name="pebs",
    cls=lazy_group(*COMMANDS),
    help="pebs: personalised breast screening — risk models, screening plans, trial platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from pebs import __version__

        typer.echo(f"pebs {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """pebs: personalised breast screening."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    command = typer.main.get_command(app)
    try:
        # Non-standalone: the parser returns exit codes (130 after Ctrl-C) instead of exiting.
        code = command.main(args=argv, prog_name="pebs", standalone_mode=False)
    except ClickException as error:  # usage errors, reported by the parser
        error.show()
        return error.exit_code
    except typer.Abort:
        code = EXIT_INTERRUPTED
    except Exception as error:
        code = exit_code_for(error)
        if code is None:
            raise
        print(f"pebs: error: {message_for(error)}", file=sys.stderr)
        return code
    if code == EXIT_INTERRUPTED:
        print("pebs: interrupted; no output file was written", file=sys.stderr)
    return code if isinstance(code, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
