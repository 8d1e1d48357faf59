"""The URL space of the site: the API owns everything under :data:`API_ROOT`, the pages the rest.

>>> is_api_path("/api/v1/participants"), is_api_path("/api"), is_api_path("/apiary")
(True, True, False)
"""

from __future__ import annotations

__all__ = ["API_ROOT", "BATCH_UPLOAD_PAGE", "TRIAL_IMPORT_PAGE", "is_api_path"]

API_ROOT = "/api"
BATCH_UPLOAD_PAGE = "/lab/batches"
"""The page that uploads a genotype batch: its body limit is the API upload's
(:func:`pebs.api.create_app`)."""
TRIAL_IMPORT_PAGE = "/imports"
"""The page that imports a whole trial from files: its body limit is the API import's."""


def is_api_path(path: str) -> bool:
    """Whether ``path`` belongs to the API (its errors are JSON bodies, not pages)."""
    return path == API_ROOT or path.startswith(f"{API_ROOT}/")
