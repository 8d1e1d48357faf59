"""``pebs check``: installation qualification (IQ) of one pebs installation.

What inspectors of validated systems (EU GMP Annex 11, 21 CFR Part 11) expect an IQ record to
show: which software is installed (pebs, Python, each run-time dependency, against the versions
pebs declares), that the configuration is acceptable for its environment, that the database is
reachable and at this release's schema revision, that the audit trail is intact and the tables
still say what it records (:mod:`.deep_audit`), that stored allocation lists still match their
seed and SHA-256, that the configured keys open the stored identities (a sample: the oldest and
the newest), and that the SQLite file is not open to other users. Each line passes or
fails; facts (versions, the loaded study) are ``info``. The installation qualifies when every
*required* check passes.

Nothing is written: the database is read in a read-only transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from pebs import __version__
from pebs.services.keys import IdentityKeys
from pebs.services.operations._check_result import STATUSES, Check
from pebs.services.operations._database_checks import database_checks
from pebs.services.operations._versions import dependency_checks, python_check

__all__ = ["STATUSES", "Check", "CheckReport", "run_checks"]

SETTINGS = "settings"


@dataclass(frozen=True)
class CheckReport:
    """Every check, in order, and when they ran (UTC)."""

    checks: tuple[Check, ...]
    at: str

    @property
    def ok(self) -> bool:
        """True when every required check passed."""
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the required checks that did not pass (failed or could not run)."""
        return tuple(check.name for check in self.checks if not check.passed)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"ok", "at", "pebs_version", "failed", "checks": [...]}``."""
        return {
            "ok": self.ok,
            "at": self.at,
            "pebs_version": __version__,
            "failed": list(self.failed),
            "checks": [asdict(check) for check in self.checks],
        }


def run_checks(
    *,
    database_url: str | None,
    environment: str | None,
    keys: IdentityKeys | None,
    settings_problem: str | None = None,
) -> CheckReport:
    """Run the installation qualification.

    Parameters
    ----------
    database_url
        The configured database (``None`` when the settings were refused: its checks are then
        reported as not run).
    environment
        ``development`` or ``production`` (``None`` when the settings were refused).
    keys
        The identity and HMAC keys of the settings, tried on stored identities (``None`` when
        the settings were refused).
    settings_problem
        Why the entry point's settings validation refused the configuration, or ``None``.
    """
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    checks = [Check("pebs", "info", __version__, False), python_check(), *dependency_checks()]
    if settings_problem is not None:
        checks.append(Check(SETTINGS, "fail", settings_problem, True))
    else:
        detail = f"accepted for environment {environment}"
        if environment != "production":
            detail += " (development: keys may be derived; never for trial data)"
        checks.append(Check(SETTINGS, "pass", detail, True))
    if database_url is None or keys is None:
        why = "not run: the settings were refused"
        checks.append(Check("database reachable", "skip", why, True))
    else:
        checks += database_checks(database_url, keys)
    return CheckReport(tuple(checks), at)
