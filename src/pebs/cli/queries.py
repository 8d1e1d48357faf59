"""``pebs queries ...``: data queries on participants' records (list, show, raise, answer,
close, re-open) and the study's edit checks over every participant (``check``).

Every command acts as the account given with ``--user``: its role and sites apply, and each step
is audited under its name (``docs/trial/queries.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from pebs.cli.db import load_settings

app = typer.Typer(
    help="Data queries: list, show, raise, answer, close, re-open; edit checks in bulk.",
    no_args_is_help=True,
)

User = Annotated[
    str, typer.Option("--user", "-u", help="Your account: its role and sites apply (audited).")
]
QueryId = Annotated[int, typer.Argument(help="The query's number.", min=1)]
Text = Annotated[str, typer.Option("--text", help="What you write (audited).")]


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


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _line(query: Any) -> str:
    key = f" {query.key}" if query.key is not None else ""
    return (f"{query.id:>6}  {query.state:<8}  {query.study_id}  {query.form}{key}.{query.item}"
            f"  value {_or_dash(query.value)}  {query.question}")  # fmt: skip


def _show(detail: Any) -> None:
    query = detail.query
    typer.echo(_line(query))
    typer.echo(f"        now {_or_dash(detail.current_value)}"
               f"{'  (an answer may correct it)' if detail.correctable else ''}")  # fmt: skip
    for note in detail.notes:
        value = f" [{note.value}]" if note.value is not None else ""
        row = f" -> {note.correction}" if note.correction else ""
        typer.echo(f"        {note.at:%Y-%m-%d %H:%M}Z {note.step:<6} {note.actor}: "
                   f"{_or_dash(note.text)}{value}{row}")  # fmt: skip


@app.command("list")
def list_command(
    user: User,
    state: Annotated[str | None, typer.Option("--state", help="open, answered or closed.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Site code (IT-TO).")] = None,
    study_id: Annotated[str | None, typer.Option("--participant", help="Her study ID.")] = None,
    worklist: Annotated[
        bool, typer.Option("--worklist", help="Your worklist: to answer, or to review.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="Most queries listed.", min=1)] = 500,
) -> None:
    """Queries in your sites, one line each (oldest first), then how many in all."""
    from pebs.services.queries.listing import MAX_PAGE, list_queries, worklist_state

    with _acting(user) as (sessions, actor, _):
        chosen = (worklist_state(actor) or "open") if worklist else state
        after, shown, total = 0, 0, 0
        while shown < limit:
            page = list_queries(sessions, actor, state=chosen, site=site, study_id=study_id,
                                after=after, limit=min(MAX_PAGE, limit - shown))  # fmt: skip
            total = page.total
            for query in page.entries:
                typer.echo(_line(query))
            shown += len(page.entries)
            if page.next_after is None:
                break
            after = page.next_after
    typer.echo(f"pebs: {shown:,} of {total:,} queries listed", err=True)


@app.command("show")
def show_command(query_id: QueryId, user: User) -> None:
    """One query: the field, its value then and now, and its history."""
    from pebs.services.queries.workflow import get_query

    with _acting(user) as (sessions, actor, _):
        _show(get_query(sessions, actor, query_id))


@app.command("raise")
def raise_command(
    study_id: Annotated[str, typer.Argument(help="Her study ID (IT-TO-000012).")],
    user: User,
    form: Annotated[str, typer.Option("--form", help="The form (visit, outcome...).")],
    item: Annotated[str, typer.Option("--item", help="The form's field (birads...).")],
    question: Annotated[str, typer.Option("--question", help="Your question (audited).")],
    key: Annotated[
        int | None, typer.Option("--key", help="A repeating form's number (its row id).")
    ] = None,
    proposed: Annotated[
        str | None, typer.Option("--proposed-value", help="The value you think is right.")
    ] = None,
) -> None:
    """Raise a query on a field of her record (data manager, monitor)."""
    from pebs.services.queries.workflow import raise_query

    with _acting(user) as (sessions, actor, _):
        detail = raise_query(sessions, actor, study_id, form=form, item=item, key=key,
                             question=question, proposed_value=proposed)  # fmt: skip
    typer.echo(f"pebs: query {detail.query.id} raised")
    _show(detail)


@app.command("answer")
def answer_command(
    query_id: QueryId,
    user: User,
    text: Text,
    corrected: Annotated[
        str | None,
        typer.Option("--corrected-value", help="The right value, recorded on her form."),
    ] = None,
) -> None:
    """Answer an open query of your sites, with the corrected value where the form allows it."""
    from pebs.services.queries.workflow import answer_query

    with _acting(user) as (sessions, actor, keys):
        detail = answer_query(sessions, actor, query_id, text=text, corrected_value=corrected,
                              keys=keys)  # fmt: skip
    typer.echo(f"pebs: query {query_id} is {detail.query.state}")
    _show(detail)


@app.command("close")
def close_command(
    query_id: QueryId,
    user: User,
    text: Annotated[str | None, typer.Option("--text", help="Why (audited).")] = None,
) -> None:
    """Close an open or answered query (data manager, monitor)."""
    from pebs.services.queries.workflow import close_query

    with _acting(user) as (sessions, actor, _):
        close_query(sessions, actor, query_id, text=text)
    typer.echo(f"pebs: query {query_id} closed")


@app.command("reopen")
def reopen_command(query_id: QueryId, user: User, text: Text) -> None:
    """Re-open an answered or closed query, saying why (data manager, monitor)."""
    from pebs.services.queries.workflow import reopen_query

    with _acting(user) as (sessions, actor, _):
        reopen_query(sessions, actor, query_id, text=text)
    typer.echo(f"pebs: query {query_id} is open again")


@app.command("check")
def check_command(
    user: User,
    study: Annotated[str, typer.Option("--study", help="Study name.")] = "mypebs-demo",
) -> None:
    """Run the study's edit checks over every participant; count what was raised and closed."""
    from pebs.cli._console import stderr_console
    from pebs.services.queries.edit_check_runs import check_study

    console = stderr_console()
    with _acting(user) as (sessions, actor, _):
        if console.is_terminal:
            with console.status("checking") as status:
                done = lambda n: status.update(f"{n:,} participants checked")  # noqa: E731
                report = check_study(sessions, actor, study, on_progress=done)
        else:
            report = check_study(sessions, actor, study)
    typer.echo(
        f"pebs: {report.n_checks} edit checks over {report.n_women:,} participants "
        f"({report.n_withheld:,} not checked: data use withdrawn): {report.n_findings:,} "
        f"findings; {report.n_raised:,} queries raised, {report.n_already_open:,} already open, "
        f"{report.n_accepted:,} accepted by a reviewer; {report.n_closed:,} closed (data fixed)"
    )
    for check, n in report.raised_by_check.items():
        typer.echo(f"  {n:>8,}  {check}")
