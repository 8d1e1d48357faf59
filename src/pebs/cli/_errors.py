"""The one table that maps error families to exit codes (BSD sysexits values).

Families are named by the module that defines them, not imported: an error can only be an
instance of a class whose module has run, so a family whose module was never imported is
skipped, and ``pebs --version`` imports none of the subsystems the table covers.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C; nothing half-written is left behind."""

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
    return None
