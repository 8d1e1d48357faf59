"""Group commit: use cases in savepoints of a shared transaction, each caller answered only after
the commit that stored its change; a failing use case rolled back alone; a failed commit reported
to every member. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from pebs.store.group_commit import GroupCommit, GroupCommitError
from pebs.store.models import Study


def _names(session_maker: sessionmaker[Session]) -> set[str]:
    with session_maker() as session:
        return set(session.scalars(select(Study.name)))


def _add(session: Session, name: str) -> None:
    session.add(Study(name=name, title=name))


def test_a_lone_caller_is_committed_before_it_returns(session_maker) -> None:
    group = GroupCommit(session_maker)
    for i in range(3):
        with group.begin() as session:
            _add(session, f"s{i}")
        assert f"s{i}" in _names(session_maker)  # seen by an independent session at once
    assert group.stats.commits == 3
    group.close()


def test_a_failing_use_case_is_rolled_back_alone(session_maker) -> None:
    group = GroupCommit(session_maker)
    with group.batch():
        with group.begin() as session:
            _add(session, "kept-1")
        with pytest.raises(ZeroDivisionError), group.begin() as session:  # noqa: PT012
            _add(session, "lost")
            session.flush()  # the use case fails after writing
            raise ZeroDivisionError
        with group.begin() as session:
            _add(session, "kept-2")
    assert _names(session_maker) == {"kept-1", "kept-2"}
    assert (group.stats.stored, group.stats.rolled_back) == (2, 1)
    group.close()


def test_a_clash_inside_one_use_case_does_not_undo_the_others(session_maker) -> None:
    group = GroupCommit(session_maker)
    with group.batch():
        with group.begin() as session:
            _add(session, "first")
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"), group.begin() as session:
            _add(session, "first")  # the study name is unique
        with group.begin() as session:
            _add(session, "second")
    assert _names(session_maker) == {"first", "second"}
    group.close()


def test_a_batch_is_stored_only_when_committed(session_maker) -> None:
    group = GroupCommit(session_maker, max_delay_s=3600, max_batch=10_000)
    with group.batch():
        for i in range(5):
            with group.begin() as session:
                _add(session, f"b{i}")
        if session_maker.kw["bind"].dialect.name == "postgresql":
            assert _names(session_maker) == set()  # not yet committed, invisible to others
        group.commit_pending()
        assert len(_names(session_maker)) == 5
        with group.begin() as session:
            _add(session, "b5")
    assert len(_names(session_maker)) == 6
    assert group.stats.commits == 2
    group.close()


def test_max_batch_commits_a_long_batch_in_groups(session_maker) -> None:
    group = GroupCommit(session_maker, max_delay_s=3600, max_batch=4)
    with group.batch():
        for i in range(10):
            with group.begin() as session:
                _add(session, f"m{i}")
    assert group.stats.sizes == [4, 4, 2]
    assert len(_names(session_maker)) == 10
    group.close()


def test_concurrent_callers_share_commits_and_each_sees_its_own_change_stored(
    session_maker,
) -> None:
    group = GroupCommit(session_maker, max_delay_s=0.05)
    n_threads, per_thread = 8, 25
    unseen: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(n_threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                name = f"t{t}-{i}"
                with group.begin() as session:
                    _add(session, name)
                with session_maker() as reader:  # answered only after its commit
                    if reader.scalar(select(Study.id).where(Study.name == name)) is None:
                        unseen.append(name)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert not unseen
    with session_maker() as session:
        assert session.scalar(select(func.count()).select_from(Study)) == n_threads * per_thread
    assert group.stats.stored == n_threads * per_thread
    assert sum(group.stats.sizes) == n_threads * per_thread
    assert group.stats.commits < n_threads * per_thread  # some commits were shared
    group.close()


def test_a_failed_commit_is_reported_to_every_member_and_nothing_is_stored(session_maker) -> None:
    group = GroupCommit(session_maker, max_delay_s=3600, max_batch=3)
    failing = {"on": True}

    engine = session_maker.kw["bind"]

    def refuse(connection) -> None:  # the database commit, not a savepoint's release
        if failing["on"]:
            raise OSError("disk full")

    event.listen(engine, "commit", refuse)
    try:
        with pytest.raises(GroupCommitError, match="disk full"), group.batch():  # noqa: PT012
            for i in range(3):
                with group.begin() as session:
                    _add(session, f"f{i}")
        failing["on"] = False
        assert _names(session_maker) == set()
        with group.begin() as session:
            _add(session, "after")
        assert _names(session_maker) == {"after"}
    finally:
        event.remove(engine, "commit", refuse)
        group.close()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_delay_s"):
        GroupCommit(sessionmaker(), max_delay_s=0)
