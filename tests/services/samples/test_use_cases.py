"""Every kit use case refuses text that cannot be stored (as every trial use case does)."""

from __future__ import annotations

import pytest

from pebs.services.errors import InvalidFields
from pebs.services.samples import abandon_sample


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_reason_with_a_nul_is_refused_naming_it(kits) -> None:
    _, kit_id = kits.kit()
    with pytest.raises(InvalidFields) as refused:
        abandon_sample(kits.sessions, kits.actor("staff"), kit_id, reason="lost\x00")
    assert set(refused.value.fields) == {"reason"}
