"""Command-line interface: ``pebs <noun> <verb>``.

:func:`main` takes the arguments and returns the exit code, so tests call it directly; expected
failures are one line on stderr with the exit code from :mod:`pebs.cli._errors`.
"""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import ClickException

from pebs import __version__
from pebs.cli import (
    audit,
    check,
    db,
    demo,
    export,
    risk,
    screening,
    serve,
    simulate,
    study,
    user,
    validate,
)
from pebs.cli._errors import EXIT_INTERRUPTED, exit_code_for

app = typer.Typer(
    name="pebs",
    help="pebs: personalised breast screening — risk models, screening plans, trial platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(risk.app, name="risk")
app.add_typer(screening.policy_app, name="policy")
app.command("plan")(screening.plan_command)
app.add_typer(db.app, name="db")
app.add_typer(study.app, name="study")
app.add_typer(audit.app, name="audit")
app.command("check")(check.check_command)
app.add_typer(demo.app, name="demo")
app.add_typer(export.app, name="export")
app.command("simulate")(simulate.simulate_command)
app.command("validate")(validate.validate_command)
app.command("serve")(serve.serve_command)
app.add_typer(user.app, name="user")


def _version(value: bool) -> None:
    if value:
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
        print(f"pebs: error: {error}", file=sys.stderr)
        return code
    if code == EXIT_INTERRUPTED:
        print("pebs: interrupted; no output file was written", file=sys.stderr)
    return code if isinstance(code, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
