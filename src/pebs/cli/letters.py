"""``pebs letters render|batch|consultation|language``: letters to participants and their
doctors, and risk consultations.

Every command acts as the account given with ``--user``: its role and sites apply, and each
letter issued, consultation recorded or language changed is audited under its name
(``docs/trial/letters.md``). The database is ``PEBS_DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from pebs.cli.db import load_settings
from pebs.io.atomic import write_bytes_atomically

app = typer.Typer(
    help="Letters to participants and their doctors: render, batch; consultations.",
    no_args_is_help=True,
)

User = Annotated[
    str, typer.Option("--user", "-u", help="Your account: its role and sites apply (audited).")
]
Participant = Annotated[str, typer.Option("--participant", help="Her study ID (IT-TO-000001).")]


@contextmanager
def _acting(user: str) -> Iterator[tuple[Any, Any, Any]]:
    """(session maker, actor, identity keys) of ``user`` on the configured database."""
    from pebs.cli.demo import identity_keys
    from pebs.services.actor import actor_for
    from pebs.services.trial import open_database

    settings = load_settings()
    database = open_database(settings.database_url)
    try:
        yield database.sessions, actor_for(database.sessions, user), identity_keys(settings)
    finally:
        database.close()


def _day(text: str | None, option: str) -> date | None:
    from pebs.services.errors import InvalidInput

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date YYYY-MM-DD", field=option) from None


@app.command("render")
def render_command(
    participant: Participant,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    user: User,
    kind: Annotated[
        str, typer.Option("--kind", help="risk_result, standard_arm, recollection, end_of_study.")
    ] = "risk_result",
    to: Annotated[str, typer.Option("--to", help="woman, or doctor (risk results).")] = "woman",
    language: Annotated[
        str | None, typer.Option("--language", help="en, fr, it, nl, he, es (default: hers).")
    ] = None,
    file_format: Annotated[
        str, typer.Option("--format", help="pdf (issued and recorded) or html (a preview).")
    ] = "pdf",
) -> None:
    """Render her letter: a PDF is issued (recorded with its SHA-256); HTML is a preview."""
    from pebs.services.letters import LetterPreview, render_letter

    with _acting(user) as (sessions, actor, keys):
        made = render_letter(sessions, actor, keys, participant, kind, to, language, file_format)
    if isinstance(made, LetterPreview):
        write_bytes_atomically(output, [made.html.encode("utf-8")])
        typer.echo(f"pebs: wrote {output} ({made.kind} to the {made.recipient}, "
                   f"{made.language}; a preview, not issued)")  # fmt: skip
        return
    write_bytes_atomically(output, [made.pdf])
    typer.echo(
        f"pebs: issued {made.kind} to the {made.recipient} ({made.language}) for "
        f"{made.study_id}: {output}, {len(made.pdf):,} bytes, SHA-256 {made.sha256}"
    )


@app.command("batch")
def batch_command(
    study: Annotated[str, typer.Option("--study", help="Study name (mypebs-demo).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The folder to write into.")],
    user: User,
    since: Annotated[
        str | None, typer.Option("--since", help="Only plans and kits made on or after this day.")
    ] = None,
) -> None:
    """Issue every letter due in your sites and write one PDF each; print counts per kind and
    language.

    Letters are recorded a hundred at a time, once written: a batch stopped part-way leaves
    the letters not yet recorded due for the next one.
    """
    from pebs.io.errors import FileAccessError
    from pebs.services.letters import BatchCounts, issue_batch

    day = _day(since, "since")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileAccessError(f"cannot create {output}: {error.strerror or error}") from None
    counts = BatchCounts()
    with _acting(user) as (sessions, actor, keys):
        for issued in issue_batch(sessions, actor, keys, study, day, counts=counts):
            write_bytes_atomically(output / issued.file_name, [issued.pdf])
    typer.echo(f"pebs: issued {counts.n_issued:,} letter(s) into {output}")
    for (kind, language), n in sorted(counts.issued.items()):
        typer.echo(f"  {kind:<14} {language}  {n:>7,}")
    for skipped in counts.skipped:
        typer.echo(f"  skipped: {skipped}")


@app.command("consultation")
def consultation_command(
    participant: Participant,
    held_on: Annotated[str, typer.Option("--on", help="The day it was held (YYYY-MM-DD).")],
    mode: Annotated[str, typer.Option("--mode", help="visit or phone.")],
    held_by: Annotated[str, typer.Option("--by", help="Who explained her result.")],
    user: User,
    questions: Annotated[
        str | None, typer.Option("--questions", help="Her questions, anything worth noting.")
    ] = None,
) -> None:
    """Record that her risk result was explained to her (audited)."""
    from pebs.services.letters import record_consultation

    day = _day(held_on, "held_on")
    assert day is not None
    with _acting(user) as (sessions, actor, _keys):
        held = record_consultation(sessions, actor, participant, day, mode, held_by, questions)
    typer.echo(f"pebs: consultation {held.consultation_id} recorded for {held.study_id} "
               f"({held.mode}, {held.held_on.isoformat()}, {held.held_by})")  # fmt: skip


@app.command("language")
def language_command(
    participant: Participant,
    language: Annotated[str, typer.Argument(help="One of her country's study languages.")],
    user: User,
) -> None:
    """Change the language her letters are written in (audited)."""
    from pebs.services.letters import set_language

    with _acting(user) as (sessions, actor, _keys):
        changed = set_language(sessions, actor, participant, language)
    typer.echo(f"pebs: {changed.study_id}: letters in {changed.language} "
               f"(was {changed.previous})")  # fmt: skip
