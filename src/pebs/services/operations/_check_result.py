"""One line of the installation qualification (``pebs check``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STATUSES", "Check"]

STATUSES = ("pass", "fail", "warn", "info", "skip")
"""``pass``/``fail`` judge a check; ``warn`` is an optional check that did not pass; ``info``
records a fact (a version, the loaded study); ``skip`` a check that could not run (the reason is
in the detail)."""


@dataclass(frozen=True)
class Check:
    """A named check, its status (one of :data:`STATUSES`), a detail and whether it is required.

    >>> Check("python", "pass", "3.11.9 (requires >=3.11)", True).passed
    True
    """

    name: str
    status: str
    detail: str
    required: bool

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")

    @property
    def passed(self) -> bool:
        """A required check passes only with ``pass``; an optional one never fails the run."""
        return self.status == "pass" or not self.required
