"""Every kit use case refuses text that cannot be stored (as every trial use case does)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import pebs.services.samples
from pebs.services.errors import InvalidFields
from pebs.services.samples import abandon_sample


def _use_cases() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(pebs.services.samples.__path__, "pebs.services.samples."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value):
                continue
            if inspect.unwrap(value).__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(value).parameters.values())
            if parameters and "sessionmaker" in str(parameters[0].annotation):
                found.append((f"{module.__name__}.{name}", value))
    return found


def test_every_kit_use_case_refuses_unstorable_text() -> None:
    use_cases = _use_cases()
    assert len(use_cases) >= 11  # the walk found them
    assert [name for name, f in use_cases if not getattr(f, "refuses_unstorable_text", False)] == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_reason_with_a_nul_is_refused_naming_it(kits) -> None:
    _, kit_id = kits.kit()
    with pytest.raises(InvalidFields) as refused:
        abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="lost\x00")
    assert set(refused.value.fields) == {"reason"}
