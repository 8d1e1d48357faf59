"""Package namespaces whose public names are imported on first use (PEP 562).

Used where importing a package must stay cheap: ``import pebs.services.trial.errors`` (the
command line's error table) must not load the database layer just because the package's
``__init__`` re-exports the use cases.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_namespace(
    package: str, exports: Mapping[str, str], public: Iterable[str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each public name to the
    submodule defining it; a name is imported on first access and kept in ``namespace``."""
    names = sorted(public)

    def __getattr__(name: str) -> Any:  # noqa: N807 (the module hook's required name)
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return names

    return __getattr__, __dir__
