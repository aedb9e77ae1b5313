"""Test dependencies a machine may lack (a PostgreSQL server, LiteLLM's proxy): without one, its tests skip with the
reason, unless the environment variable that requires it is 1 (as in CI), which makes them fail instead."""

import os
from typing import NoReturn

import pytest


def unavailable(reason: str, *, required_by: str) -> NoReturn:
    """Skip the test for `reason`, or fail it when the environment variable `required_by` is 1."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1)")
    pytest.skip(reason)
