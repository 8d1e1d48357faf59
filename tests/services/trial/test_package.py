"""The public surface of pebs.services.trial: every name resolves; errors load alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pebs.services.trial as trial_services
from pebs.services.trial import errors


def test_every_public_name_resolves_to_its_module() -> None:
    assert sorted(trial_services.__all__) == sorted(trial_services._EXPORTS)
    for name in trial_services.__all__:
        value = getattr(trial_services, name)
        module = f"pebs.services.trial.{trial_services._EXPORTS[name]}"
        assert getattr(sys.modules[module], name) is value
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        trial_services.nope  # noqa: B018


def test_error_families_share_one_base_and_have_stable_codes() -> None:
    families = [errors.NotFound, errors.PermissionDenied, errors.InvalidInput, errors.Conflict,
                errors.DuplicateParticipant, errors.AllocationRefused, errors.StratumExhausted,
                errors.DatabaseNotReady]  # fmt: skip
    assert all(issubclass(f, errors.ServiceError) for f in families)
    assert len({f.code for f in families}) == len(families)
    assert issubclass(errors.StratumExhausted, errors.Conflict)


def test_the_error_module_does_not_load_the_database_layer() -> None:
    code = "import sys, pebs.services.trial.errors; print('sqlalchemy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert result.stdout.strip() == "False"
