"""pebs — PErsonalised Breast Screening.

Risk models, screening plans, a randomised-trial platform and a screening microsimulation.
"""

from __future__ import annotations

import functools

__all__ = ["__version__"]


@functools.cache
def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # reads the install's metadata

    try:
        return version("pebs")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    """``pebs.__version__``, read when first asked for: a command that never shows it (most
    do not) does not load :mod:`importlib.metadata`."""
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'pebs' has no attribute {name!r}")
