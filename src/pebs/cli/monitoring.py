"""``pebs monitoring``: source data verification, casebook signatures and locks of forms and
casebooks (the study lock is ``pebs study lock``)."""

from __future__ import annotations

from typing import Annotated

import typer

from pebs.cli.db import load_settings

app = typer.Typer(
    help="Monitoring: source data verification, casebook signatures, form and casebook locks.",
    no_args_is_help=True,
)

_USER = typer.Option("--user", "-u", help="Your account (audited).")
_KEY = typer.Option("--key", help="A repeating form's instance (its row id, e.g. the visit id).")


def _run(user: str, call):
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database

    database = open_database(load_settings().database_url)
    try:
        return call(database.sessions, actor_for(database.sessions, user))
    finally:
        database.close()


@app.command("status")
def status_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID (FR-PA-000012).")],
    user: Annotated[str, _USER],
) -> None:
    """Print her forms' source data verification and locks, and her casebook's signature."""
    from pebs.services.monitoring import casebook_signature, monitoring_view

    view, signature = _run(user, lambda s, a: (monitoring_view(s, a, study_id),
                                               casebook_signature(s, a, study_id)))  # fmt: skip
    if view.study_lock is not None:
        typer.echo(f"study locked by {view.study_lock.locked_by} since {view.study_lock.locked_at}")
    if view.participant_lock is not None:
        lock = view.participant_lock
        typer.echo(f"casebook locked by {lock.locked_by} since {lock.locked_at}")
    for form in view.forms:
        lock = "" if form.lock is None else f"  locked by {form.lock.locked_by}"
        typer.echo(f"{form.label:<24} {form.sdv.replace('_', ' '):<12}{lock}")
    if signature is None:
        typer.echo("not signed")
    else:
        state = "valid" if signature.valid else f"VOID (changed {signature.changed_at})"
        typer.echo(f"signed by {signature.signer_name} ({signature.signer_username}, "
                   f"{signature.signer_role}) at {signature.signed_at}: {signature.meaning_text} "
                   f"[{state}]")  # fmt: skip


@app.command("verify")
def verify_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID.")],
    form: Annotated[str, typer.Argument(help="The form (consent, visit, ...).")],
    user: Annotated[str, _USER],
    key: Annotated[int | None, _KEY] = None,
) -> None:
    """Mark her form as verified against the source documents (a monitor)."""
    from pebs.services.monitoring import verify_source_data

    done = _run(user, lambda s, a: verify_source_data(s, a, study_id, form, key))
    typer.echo(f"pebs: {study_id} {done.label} verified by {done.verified_by}")


@app.command("worklist")
def worklist_command(
    study: Annotated[str, typer.Argument(help="Study name (mypebs-demo).")],
    user: Annotated[str, _USER],
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
) -> None:
    """Print each woman's form instances verified, changed since and to verify, and site totals."""
    from pebs.services.monitoring import sdv_worklist

    found = _run(user, lambda s, a: sdv_worklist(s, a, study, site=site))
    typer.echo("site\tstudy_id\tverified\tchanged\tto_verify")
    for row in (*found.sites, *found.women):
        typer.echo(f"{row.site}\t{row.study_id or '*'}\t{row.n_verified}\t{row.n_changed}\t"
                   f"{row.n_to_verify}")  # fmt: skip


@app.command("lock")
def lock_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID.")],
    user: Annotated[str, _USER],
    form: Annotated[
        str | None, typer.Argument(help="The form to lock; none: her whole casebook.")
    ] = None,
    key: Annotated[int | None, _KEY] = None,
) -> None:
    """Lock one form of hers, or her whole casebook (a data manager)."""
    from pebs.services.monitoring import lock_form, lock_participant

    if form is None:
        done = _run(user, lambda s, a: lock_participant(s, a, study_id))
    else:
        done = _run(user, lambda s, a: lock_form(s, a, study_id, form, key))
    what = "casebook" if done.form == "*" else f"{done.form} {done.key or ''}".strip() + " form"
    typer.echo(f"pebs: the {what} of {study_id} is locked")


@app.command("unlock")
def unlock_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID.")],
    user: Annotated[str, _USER],
    reason: Annotated[str, typer.Option("--reason", help="Why it is unlocked (audited).")],
    form: Annotated[
        str | None, typer.Argument(help="The form to unlock; none: her whole casebook.")
    ] = None,
    key: Annotated[int | None, _KEY] = None,
) -> None:
    """Unlock one form of hers, or her whole casebook, with a reason (a data manager)."""
    from pebs.services.monitoring import unlock_form, unlock_participant

    if form is None:
        _run(user, lambda s, a: unlock_participant(s, a, study_id, reason=reason))
    else:
        _run(user, lambda s, a: unlock_form(s, a, study_id, form, key, reason=reason))
    typer.echo(f"pebs: unlocked ({reason})")


@app.command("sign")
def sign_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID.")],
    user: Annotated[str, _USER],
    language: Annotated[str, typer.Option("--language", help="Language of the meaning.")] = "en",
) -> None:
    """Sign her casebook (a site investigator): shows the meaning, asks to confirm it, then asks
    for your password and the current code of your authenticator app."""
    from pebs.http.state import policy_from_settings
    from pebs.services.keys import IdentityKeys
    from pebs.services.monitoring import MEANING_VERSION, meaning_text, sign_casebook

    typer.echo(f"Meaning (version {MEANING_VERSION}): {meaning_text(language)}")
    accept = typer.confirm("Sign with this meaning?", default=False)
    password = typer.prompt("Password", hide_input=True)
    code = typer.prompt("TOTP code")
    settings = load_settings()
    keys = IdentityKeys.from_settings_values(settings.identity_keys(), settings.hmac_key_bytes())
    signed = _run(user, lambda s, a: sign_casebook(
        s, keys.cipher, policy_from_settings(settings), a, study_id, password=password,
        totp_code=code, accept=accept, language=language, client="cli"))  # fmt: skip
    typer.echo(f"pebs: {study_id} signed by {signed.signer_name} at {signed.signed_at}; "
               f"casebook SHA-256 {signed.casebook_sha256}")  # fmt: skip
