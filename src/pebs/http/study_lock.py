"""Lock a study from the API or the pages: its snapshot goes to the installation's folder
``PEBS_DATA_DIR/snapshots/`` (created private), named by the study and the UTC time."""

from __future__ import annotations

from datetime import UTC, datetime

from pebs.http.state import AppState
from pebs.services.actor import Actor
from pebs.services.monitoring import StudyLockView, lock_study, snapshot_name

__all__ = ["lock_study_here"]


def lock_study_here(state: AppState, actor: Actor, study: str, reason: str) -> StudyLockView:
    """:func:`~pebs.services.monitoring.lock_study` with the server's database, key and folder
    (the plain sessions, not the group commit: the snapshot must see the lock committed)."""
    url = state.database.engine.url.render_as_string(hide_password=False)
    folder = state.data_dir / "snapshots"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = folder / snapshot_name(study, url, datetime.now(UTC))
    return lock_study(state.database.sessions, actor, study, reason=reason, snapshot=target,
                      database_url=url, installation_key=state.keys.hmac_key)  # fmt: skip
