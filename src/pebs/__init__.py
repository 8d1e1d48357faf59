"""pebs — PErsonalised Breast Screening.

Risk models, screening plans, a randomised-trial platform and a screening microsimulation.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pebs")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
