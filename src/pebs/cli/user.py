"""``pebs user ...``: account administration from the server's command line (operator).

The operator acts as the system administrator (``cli:<login>`` in the audit trail).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pebs.cli.db import load_settings
from pebs.cli.study import _operator

app = typer.Typer(help="Accounts: create, list, passwords, TOTP reset, disable and enable, "
                  "unlock, demo logins.", no_args_is_help=True)  # fmt: skip


def _context():
    from pebs.services.auth import AuthPolicy
    from pebs.services.keys import IdentityKeys
    from pebs.services.trial import open_database

    settings = load_settings()
    database = open_database(settings.database_url)
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    policy = AuthPolicy.from_settings_values(settings.secret_key.get_secret_value())
    return settings, database, keys, policy


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("New password", hide_input=True, confirmation_prompt=True)


@app.command("create")
def create_command(
    username: str,
    role: Annotated[str, typer.Option(help="The account's role (site_staff, statistician, ...).")],
    site: Annotated[
        str | None, typer.Option(help="Her site's code (site roles), e.g. IT-TO.")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="Her country's code (country coordinators), e.g. IT.")
    ] = None,
    full_name: Annotated[str | None, typer.Option(help="Her full name.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin",
                     help="Read her initial password from stdin (default: generate one and "
                          "print it once)."),
    ] = False,
) -> None:  # fmt: skip
    """Create an account; she enrols her authenticator app (TOTP) at her first login."""
    from pebs.services.auth import create_account

    password = _password(True) if password_stdin else None
    _, database, _, policy = _context()
    try:
        created = create_account(database.sessions, _operator(), policy, username, role,
                                 site=site, country=country, password=password,
                                 full_name=full_name)  # fmt: skip
    finally:
        database.close()
    where = created.site or created.country
    typer.echo(f"pebs: account {created.username} created ({created.role}"
               f"{'' if where is None else ', ' + where})")  # fmt: skip
    if created.generated_password is not None:
        typer.echo(f"  initial password (shown once, hand it to her): "
                   f"{created.generated_password}")  # fmt: skip


@app.command("enable")
def enable_command(username: str) -> None:
    """Enable a disabled account again (she logs in anew)."""
    from pebs.services.auth import enable_account

    _, database, _, _ = _context()
    try:
        changed = enable_account(database.sessions, _operator(), username)
    finally:
        database.close()
    typer.echo(f"pebs: {username} enabled" if changed else f"pebs: {username} was already active")


@app.command("list")
def list_command() -> None:
    """List the accounts: role, site or country, active, TOTP enrolled, locked."""
    from pebs.services.auth import list_accounts

    _, database, _, policy = _context()
    try:
        accounts = list_accounts(database.sessions, _operator(), policy)
    finally:
        database.close()
    typer.echo(f"{'username':<28} {'role':<20} {'scope':<6} {'active':<6} {'totp':<4} locked")
    for a in accounts:
        scope = a.site or a.country or ""
        typer.echo(f"{a.username:<28} {a.role:<20} {scope:<6} {_yes(a.is_active):<6} "
                   f"{_yes(a.totp_enrolled):<4} {_yes(a.locked)}")  # fmt: skip


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@app.command("set-password")
def set_password_command(
    username: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Set a user's password (argon2id); her open sessions end."""
    from pebs.services.auth import set_password

    password = _password(password_stdin)
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
