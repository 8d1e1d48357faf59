"""Run the trial analysis from the API or the pages: each run writes its outputs to its own
folder ``PEBS_DATA_DIR/analyses/<study>-<UTC time>/`` (created private); a run on the snapshot
reads the file of the study's latest lock in ``PEBS_DATA_DIR/snapshots/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pebs import __version__
from pebs.http.state import AppState
from pebs.services.actor import Action, Actor, require
from pebs.services.analysis import (
    AnalysisRun,
    analysis_archive,
    analysis_results,
    is_run_name,
    run_analysis,
    run_name,
)
from pebs.services.errors import Conflict, NotFound
from pebs.services.monitoring import study_lock_status

__all__ = ["analyse_here", "archive_here", "results_here", "runs_here"]


def analyse_here(state: AppState, actor: Actor, study: str, *, snapshot: bool) -> AnalysisRun:
    """:func:`~pebs.services.analysis.run_analysis` into a new run folder of the server."""
    require(actor, Action.ANALYSE)
    source = None
    if snapshot:
        lock = study_lock_status(state.database.sessions, actor, study)
        source = (
            None
            if lock.snapshot_file is None
            else state.data_dir / "snapshots" / lock.snapshot_file
        )
        if source is None or not source.is_file():
            raise Conflict(f"study {study!r} has no lock snapshot on this server; lock it "
                           "first or analyse the live database")  # fmt: skip
    folder = state.data_dir / "analyses"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return run_analysis(state.database.sessions, actor, study,
                        folder=folder / run_name(study, datetime.now(UTC)),
                        software_version=__version__, snapshot=source)  # fmt: skip


def runs_here(state: AppState, actor: Actor, study: str) -> list[str]:
    """The study's run folders on the server, newest first."""
    require(actor, Action.ANALYSE)
    folder = state.data_dir / "analyses"
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if is_run_name(study, p.name)),
                  reverse=True)  # fmt: skip


def _run_folder(state: AppState, study: str, run: str):
    if not is_run_name(study, run):
        raise NotFound(f"no analysis run {run!r} of study {study!r}")
    return state.data_dir / "analyses" / run


def results_here(state: AppState, actor: Actor, study: str, run: str) -> dict[str, Any]:
    """A run's ``results.json`` (:func:`~pebs.services.analysis.analysis_results`)."""
    require(actor, Action.ANALYSE)
    return analysis_results(actor, _run_folder(state, study, run))


def archive_here(state: AppState, actor: Actor, study: str, run: str) -> bytes:
    """The ZIP of a run's outputs (:func:`~pebs.services.analysis.analysis_archive`)."""
    require(actor, Action.ANALYSE)
    return analysis_archive(actor, _run_folder(state, study, run))
