"""Installed versions against pebs' declared requirements (``pebs check``).

Reads the installed distribution's metadata (``Requires-Python``, ``Requires-Dist``): the checks
follow whatever release is installed, with no list kept by hand. Requirements of the form
``name>=X.Y`` (all of pebs' own) are compared; any other form is reported, not judged.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

from pebs.services.operations._check_result import Check

__all__ = ["dependency_checks", "python_check", "release_tuple"]

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$")
_MINIMUM = re.compile(r"^>=\s*([0-9][0-9.]*)$")


def release_tuple(version: str) -> tuple[int, ...]:
    """The leading numeric release of a version string.

    >>> release_tuple("2.0.36"), release_tuple("3.2.1rc1"), release_tuple("0.0.9")
    ((2, 0, 36), (3, 2, 1), (0, 0, 9))
    """
    numbers = []
    for part in version.split("."):
        match = re.match(r"\d+", part)
        if match is None:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    return tuple(numbers)


def _at_least(installed: str, minimum: str) -> bool:
    have, need = release_tuple(installed), release_tuple(minimum)
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


def python_check() -> Check:
    """The running Python against ``Requires-Python``."""
    running = ".".join(str(n) for n in sys.version_info[:3])
    try:
        declared = metadata.metadata("pebs").get("Requires-Python") or ""
    except metadata.PackageNotFoundError:
        declared = ""
    match = _MINIMUM.match(declared.strip())
    if match is None:
        return Check("python", "info", f"{running} (pebs is not installed with metadata)", False)
    status = "pass" if _at_least(running, match.group(1)) else "fail"
    return Check("python", status, f"{running} (requires {declared})", True)


def dependency_checks() -> list[Check]:
    """One check per run-time requirement of the installed pebs (extras left out)."""
    try:
        requirements = metadata.requires("pebs") or []
    except metadata.PackageNotFoundError:
        return [Check("dependencies", "fail", "pebs is not installed (no metadata)", True)]
    checks = []
    for requirement in requirements:
        if ";" in requirement:  # an extra's or a platform's requirement
            continue
        match = _REQUIREMENT.match(requirement)
        if match is None:
            checks.append(Check(f"dependency {requirement}", "warn", "not understood", False))
            continue
        name, specifier = match.group(1), match.group(2)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            checks.append(Check(f"dependency {name}", "fail", f"missing ({specifier})", True))
            continue
        minimum = _MINIMUM.match(specifier)
        if minimum is None:
            checks.append(Check(f"dependency {name}", "info", f"{installed} ({specifier})", False))
            continue
        status = "pass" if _at_least(installed, minimum.group(1)) else "fail"
        checks.append(Check(f"dependency {name}", status, f"{installed} ({specifier})", True))
    return checks
