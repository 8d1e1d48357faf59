"""``pebs user ...``: account administration from the server's command line (operator).

The operator acts as the system administrator (``cli:<login>`` in the audit trail).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pebs.cli.db import load_settings
from pebs.cli.study import _operator

app = typer.Typer(help="Accounts: passwords, TOTP reset, disablement, unlock, demo logins.",
                  no_args_is_help=True)  # fmt: skip


def _context():
    from pebs.services.auth import AuthPolicy
    from pebs.services.keys import IdentityKeys
    from pebs.services.trial import open_database

    settings = load_settings()
    database = open_database(settings.database_url)
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    policy = AuthPolicy.from_settings_values(settings.secret_key.get_secret_value())
    return settings, database, keys, policy


@app.command("set-password")
def set_password_command(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Set a user's password (argon2id); her open sessions end."""
    from pebs.services.auth import set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _, database, _, policy = _context()
    try:
        set_password(database.sessions, _operator(), policy, username, password)
    finally:
        database.close()
    typer.echo(f"pebs: password of {username} set; her sessions were ended")


@app.command("disable")
def disable_command(
    username: str, reason: Annotated[str, typer.Option(help="Why (audited).")]
) -> None:
    """Disable an account: its sessions and API tokens stop working at once."""
    from pebs.services.auth import disable_account

    _, database, _, _ = _context()
    try:
        n = disable_account(database.sessions, _operator(), username, reason)
    finally:
        database.close()
    typer.echo(f"pebs: {username} disabled; {n} open session(s) ended")


@app.command("reset-totp")
def reset_totp_command(username: str) -> None:
    """Remove a user's TOTP app (lost phone): she enrols a new one at her next login."""
    from pebs.services.auth import reset_totp

    _, database, _, _ = _context()
    try:
        reset_totp(database.sessions, _operator(), username)
    finally:
        database.close()
    typer.echo(f"pebs: TOTP of {username} reset; she enrols again at her next login")


@app.command("unlock")
def unlock_command(
    username: str,
    address: Annotated[
        str | None,
        typer.Option(help="Also forget this client address's failed logins (every username)."),
    ] = None,
) -> None:
    """Forget a user's failed logins, so she need not wait before her next attempt."""
    from pebs.services.auth import unlock_logins

    _, database, _, _ = _context()
    try:
        n = unlock_logins(database.sessions, _operator(), username, address=address)
    finally:
        database.close()
    typer.echo(f"pebs: {username} unlocked ({n} failed-login count(s) cleared)")


@app.command("demo-logins")
def demo_logins_command(
    study: Annotated[str, typer.Argument(help="The loaded study (mypebs-demo).")] = "mypebs-demo",
) -> None:
    """Give every demo account a new password and TOTP secret, and print them (demo only)."""
    from pebs.services.auth import provision_demo_accounts

    settings, database, keys, policy = _context()
    if settings.environment == "production":
        raise typer.BadParameter("demo logins are refused in production (PEBS_ENVIRONMENT)")
    try:
        logins = provision_demo_accounts(database.sessions, _operator(), keys.cipher, policy,
                                         study)  # fmt: skip
    finally:
        database.close()
    typer.echo("pebs: demo logins (for trying pebs only; codes: any TOTP app, or "
               "python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\")")  # fmt: skip
    typer.echo(f"  {'username':<26} {'role':<20} {'scope':<6} {'password':<18} TOTP secret")
    for login in logins:
        scope = login.site or login.country or ""
        typer.echo(f"  {login.username:<26} {login.role:<20} {scope:<6} {login.password:<18} "
                   f"{login.totp_secret}")  # fmt: skip
