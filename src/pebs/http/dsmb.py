"""Produce the DSMB reports from the API or the pages: each report is written to its own folder
``PEBS_DATA_DIR/dsmb/<kind>-<study>-<UTC time>/`` (created private); a report on the snapshot
reads the file of the study's latest lock in ``PEBS_DATA_DIR/snapshots/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pebs import __version__
from pebs.http.state import AppState
from pebs.services.actor import Action, Actor, require
from pebs.services.analysis.dsmb import (
    DsmbReport,
    dsmb_archive,
    dsmb_run_name,
    dsmb_tables,
    is_dsmb_run_name,
    run_dsmb_report,
)
from pebs.services.errors import Conflict, NotFound
from pebs.services.monitoring import study_lock_status

__all__ = ["dsmb_archive_here", "dsmb_here", "dsmb_runs_here", "dsmb_tables_here"]


def dsmb_here(state: AppState, actor: Actor, study: str, kind: str, *,
              snapshot: bool) -> DsmbReport:  # fmt: skip
    """:func:`~pebs.services.analysis.dsmb.run_dsmb_report` into a new folder of the server."""
    require(actor, Action.DSMB_CLOSED_REPORT if kind == "closed" else Action.DSMB_OPEN_REPORT)
    source = None
    if snapshot:
        lock = study_lock_status(state.database.sessions, actor, study)
        source = (None if lock.snapshot_file is None
                  else state.data_dir / "snapshots" / lock.snapshot_file)  # fmt: skip
        if source is None or not source.is_file():
            raise Conflict(f"study {study!r} has no lock snapshot on this server; lock it "
                           "first or report on the live database")  # fmt: skip
    folder = state.data_dir / "dsmb"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = dsmb_run_name(kind, study, datetime.now(UTC))
    return run_dsmb_report(state.database.sessions, actor, study, kind=kind,
                           folder=folder / name, software_version=__version__,
                           snapshot=source)  # fmt: skip


def dsmb_runs_here(state: AppState, actor: Actor, study: str) -> list[str]:
    """The study's reports on the server that the actor may read, newest first."""
    require(actor, Action.DSMB_OPEN_REPORT)
    folder = state.data_dir / "dsmb"
    if not folder.is_dir():
        return []
    closed = actor.role in _closed_roles()
    names = [p.name for p in folder.iterdir() if is_dsmb_run_name(study, p.name)]
    return sorted((n for n in names if closed or n.startswith("open-")),
                  key=lambda n: n.split("-")[-1], reverse=True)  # fmt: skip


def _closed_roles() -> frozenset[str]:
    from pebs.services.actor import PERMISSIONS

    return PERMISSIONS[Action.DSMB_CLOSED_REPORT]


def _folder(state: AppState, study: str, run: str):
    if not is_dsmb_run_name(study, run):
        raise NotFound(f"no DSMB report {run!r} of study {study!r}")
    return state.data_dir / "dsmb" / run


def dsmb_tables_here(state: AppState, actor: Actor, study: str, run: str) -> dict[str, Any]:
    """A report's ``tables.json``."""
    require(actor, Action.DSMB_OPEN_REPORT)
    return dsmb_tables(actor, _folder(state, study, run))


def dsmb_archive_here(state: AppState, actor: Actor, study: str, run: str) -> bytes:
    """The ZIP of a report's files."""
    require(actor, Action.DSMB_OPEN_REPORT)
    return dsmb_archive(actor, _folder(state, study, run))
