"""Shared small scenario for the simulator tests."""

import pytest

from pebs.sim import parse_scenario

US_TEXT = """
name = "test-us"
[population]
countries = { US = 1.0 }
entry_age = [40, 40]
follow_up_years = "lifetime"
[[strategy]]
name = "biennial-50-74"
policy = "us-biennial-50-74"
[[strategy]]
name = "biennial-40-74"
policy = "uspstf-2024"
[[strategy]]
name = "annual-40-74"
policy = "us-annual-40-74"
"""


@pytest.fixture(scope="session")
def us_scenario():
    """US women from 40 for life: no screening, biennial 50-74, biennial 40-74, annual 40-74."""
    return parse_scenario(US_TEXT)
