"""Monitoring of casebooks: source data verification, investigators' signatures, locks.

- :func:`verify_source_data`, :func:`monitoring_view`, :func:`sdv_worklist`
  (:mod:`.source_verification`): a monitor's marks, cleared by any later change of the values;
- :func:`sign_casebook`, :func:`casebook_signature` (:mod:`.signatures`): 21 CFR Part 11
  signatures with password and TOTP, void after a change;
- :func:`lock_form`, :func:`unlock_form`, :func:`lock_participant`, :func:`unlock_participant`
  (:mod:`.locks`): data managers' locks, enforced by :mod:`pebs.services.data_locks`;
- :func:`lock_study`, :func:`unlock_study`, :func:`study_lock_status` (:mod:`.study_lock`): the
  database lock and its snapshot.
"""

from pebs.services.monitoring.locks import (
    LockChange,
    lock_form,
    lock_participant,
    unlock_form,
    unlock_participant,
)
from pebs.services.monitoring.signatures import (
    MEANING,
    MEANING_VERSION,
    casebook_signature,
    meaning_text,
    sign_casebook,
)
from pebs.services.monitoring.source_verification import (
    SDV_STATUSES,
    FormMonitoring,
    LockInfo,
    MonitoringView,
    SdvWorklist,
    WorklistRow,
    monitoring_view,
    sdv_worklist,
    verify_source_data,
)
from pebs.services.monitoring.study_lock import (
    StudyLockView,
    lock_study,
    snapshot_name,
    study_lock_status,
    unlock_study,
)
from pebs.services.signature_status import SignatureView

__all__ = [
    "MEANING",
    "MEANING_VERSION",
    "SDV_STATUSES",
    "FormMonitoring",
    "LockChange",
    "LockInfo",
    "MonitoringView",
    "SdvWorklist",
    "SignatureView",
    "StudyLockView",
    "WorklistRow",
    "casebook_signature",
    "lock_form",
    "lock_participant",
    "lock_study",
    "meaning_text",
    "monitoring_view",
    "sdv_worklist",
    "sign_casebook",
    "snapshot_name",
    "study_lock_status",
    "unlock_form",
    "unlock_participant",
    "unlock_study",
    "verify_source_data",
]
