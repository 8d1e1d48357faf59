"""The one table that maps error families to exit codes (BSD sysexits values)."""

from __future__ import annotations

from pebs.cli.serve import PortUnavailable
from pebs.config import SettingsError
from pebs.io.errors import FileAccessError, InputFormatError
from pebs.risk._arrays import ModelInputError
from pebs.risk.cards import UnknownCard
from pebs.screening import PlanError, PolicyError
from pebs.services.operations.errors import ToolMissing
from pebs.services.simulation import SimulationOptionsError
from pebs.services.trial.errors import (
    DatabaseNotReady,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from pebs.sim import ParameterError, ScenarioError
from pebs.sim.distributed import ClusterError
from pebs.store.crypto import DecryptionError

EXIT_USAGE = 2
"""Bad command line (unknown option, missing argument): reported by the parser."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C; nothing half-written is left behind."""

EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (InputFormatError, 65),  # EX_DATAERR: the input's content cannot be used
    (ModelInputError, 65),
    (PolicyError, 65),  # a policy file that cannot be used, or an unknown policy name
    (PlanError, 65),  # an inconsistent planning request
    (ScenarioError, 65),  # a simulation scenario that cannot be used, or an unknown name
    (ParameterError, 65),  # an unusable simulation parameter file
    (SimulationOptionsError, 65),  # simulation options that cannot be used together
    (ClusterError, 69),  # EX_UNAVAILABLE: the Dask cluster cannot be started or reached
    (PortUnavailable, 69),  # EX_UNAVAILABLE: pebs serve: the port is taken
    (FileAccessError, 74),  # EX_IOERR: a file cannot be opened, read or written
    (UnknownCard, 66),  # EX_NOINPUT: no model card with that id (the message lists the ids)
    # Trial services (pebs.services.trial.errors); the most specific family first.
    (ToolMissing, 69),  # EX_UNAVAILABLE: pg_dump/pg_restore not installed
    (NotFound, 66),  # EX_NOINPUT: no such study, site or participant (in the caller's scope)
    (PermissionDenied, 77),  # EX_NOPERM: the role may not do this
    (DatabaseNotReady, 69),  # EX_UNAVAILABLE: unreachable, or not migrated (pebs db upgrade)
    (ServiceError, 65),  # EX_DATAERR: invalid input, conflict, exhausted stratum, duplicate...
    (SettingsError, 78),  # EX_CONFIG: a PEBS_* setting is missing or unsafe
    (DecryptionError, 78),  # EX_CONFIG: PEBS_IDENTITY_KEY does not open the identifying data
)
"""Expected failures: one line on stderr, no traceback. Anything else is a bug and keeps its
traceback."""


def exit_code_for(error: Exception) -> int | None:
    """Exit code for an expected error, or None for a bug."""
    for family, code in EXIT_CODES:
        if isinstance(error, family):
            return code
    return None
