"""The services' shared core: one error module for every family, and packages that re-export."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from pebs.services import errors

PACKAGES = ["pebs.services.trial", "pebs.services.auth", "pebs.services.operations",
            "pebs.services.records"]  # fmt: skip


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_of_a_package_is_defined(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
    assert not hasattr(module, "__getattr__")  # plain re-exports: static tools see every name


def test_error_families_share_one_base_and_have_stable_codes() -> None:
    families = [value for _, value in inspect.getmembers(errors, inspect.isclass)
                if value.__module__ == errors.__name__]  # fmt: skip
    assert {f.__name__ for f in families} == set(errors.__all__)
    assert all(issubclass(f, errors.ServiceError) for f in families)
    coded = [f for f in families if f is not errors.InvalidFields]  # an InvalidInput, its code
    assert len({f.code for f in coded}) == len(coded)  # one code per family
    assert errors.InvalidFields.code == errors.InvalidInput.code
    assert issubclass(errors.StratumExhausted, errors.Conflict)
    assert issubclass(errors.SecondFactorRequired, errors.PermissionDenied)
    assert issubclass(errors.SignatureRejected, errors.BackupRejected)


def test_an_invalid_input_names_its_field() -> None:
    error = errors.InvalidInput("give 1 to 100 characters", field="name")
    assert (str(error), error.field, error.problem) == (
        "name: give 1 to 100 characters", "name", "give 1 to 100 characters")  # fmt: skip
    assert errors.InvalidInput("no single field").field is None


def test_the_error_module_does_not_load_the_database_layer() -> None:
    code = "import sys, pebs.services.errors; print('sqlalchemy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == "False"
