"""The URL space of the site: the API owns everything under :data:`API_ROOT`, the pages the rest.

>>> is_api_path("/api/v1/participants"), is_api_path("/api"), is_api_path("/apiary")
(True, True, False)
"""

from __future__ import annotations

__all__ = ["API_ROOT", "is_api_path"]

API_ROOT = "/api"


def is_api_path(path: str) -> bool:
    """Whether ``path`` belongs to the API (its errors are JSON bodies, not pages)."""
    return path == API_ROOT or path.startswith(f"{API_ROOT}/")
