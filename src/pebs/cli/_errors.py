"""The one table that maps error families to exit codes (BSD sysexits values).

Families are named by the module that defines them, not imported: an error can only be an
instance of a class whose module has run, so a family whose module was never imported is
skipped, and ``pebs --version`` imports none of the subsystems the table covers.

A transient database failure (:mod:`pebs.store.transient`: a lock held too long, a deadlock, a
lost connection) is expected too, whatever class it arrives as: :data:`EXIT_DATABASE_BUSY` and
one line (:func:`message_for`) saying that the change in progress was rolled back.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C; nothing half-written is left behind."""

EXIT_DATABASE_BUSY = 75
"""EX_TEMPFAIL: the database was busy; the transaction in progress was rolled back, and the
command may succeed if run again in a moment."""

EXIT_CODES: tuple[tuple[str, int], ...] = (
    ("pebs.io.errors:InputFormatError", 65),  # EX_DATAERR: the input's content cannot be used
    ("pebs.risk._arrays:ModelInputError", 65),
    ("pebs.stats._checks:StatsInputError", 65),  # an unusable statistics argument
    ("pebs.screening.policy:PolicyError", 65),  # an unusable policy file, or an unknown name
    ("pebs.screening.planner:PlanError", 65),  # an inconsistent planning request
    ("pebs.sim.scenario:ScenarioError", 65),  # an unusable simulation scenario, or unknown name
    ("pebs.sim.parameters:ParameterError", 65),  # an unusable simulation parameter file
    ("pebs.services.simulation:SimulationOptionsError", 65),  # options that do not go together
    ("pebs.sim.distributed:ClusterError", 69),  # EX_UNAVAILABLE: Dask cluster not started/reached
    ("pebs.cli.serve:PortUnavailable", 69),  # EX_UNAVAILABLE: pebs serve: the port is taken
    ("pebs.io.errors:FileAccessError", 74),  # EX_IOERR: a file cannot be opened, read or written
    ("pebs.risk.cards:UnknownCard", 66),  # EX_NOINPUT: no model card with that id (lists the ids)
    # Services (pebs.services.errors); the most specific family first.
    ("pebs.services.errors:ToolMissing", 69),  # EX_UNAVAILABLE: pg_dump/pg_restore not installed
    ("pebs.services.errors:NotFound", 66),  # EX_NOINPUT: no such study, site or participant
    ("pebs.services.errors:PermissionDenied", 77),  # EX_NOPERM: the role may not do this
    ("pebs.services.errors:DatabaseNotReady", 69),  # EX_UNAVAILABLE: unreachable, or not migrated
    ("pebs.services.errors:ServiceError", 65),  # EX_DATAERR: invalid input, conflict, duplicate...
    ("pebs.config:SettingsError", 78),  # EX_CONFIG: a PEBS_* setting is missing or unsafe
    ("pebs.store.crypto:DecryptionError", 78),  # EX_CONFIG: PEBS_IDENTITY_KEY does not open data
)
"""Expected failures, as ``module:class`` (the module that defines the class): one line on
stderr, no traceback. Anything else is a bug and keeps its traceback."""


def exit_code_for(error: Exception) -> int | None:
    """Exit code for an expected error, or None for a bug."""
    for family, code in EXIT_CODES:
        module_name, _, class_name = family.partition(":")
        module = sys.modules.get(module_name)
        cls = getattr(module, class_name, None)  # None: never imported, or not yet defined
        if cls is not None and isinstance(error, cls):
            return code
    if _transient_reason(error) is not None:
        return EXIT_DATABASE_BUSY
    return None


def message_for(error: Exception) -> str:
    """The one line that reports an expected error (after ``pebs: error: ``)."""
    if exit_code_for(error) != EXIT_DATABASE_BUSY:
        return str(error)
    return (
        f"the database is busy ({_transient_reason(error)}); the change in progress was rolled "
        "back, nothing of it was saved: run the command again in a moment"
    )


def _transient_reason(error: Exception) -> str | None:
    """The first line of the driver's message if ``error`` is a transient database failure.
    Only a command that used the database (and so imported the store) can meet one."""
    if "pebs.store" not in sys.modules:
        return None
    from pebs.store.transient import transient_reason

    return transient_reason(error)
