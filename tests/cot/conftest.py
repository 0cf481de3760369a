"""Fixtures for the CoT codec: the shipped label schemes as one registry."""

from __future__ import annotations

import pytest

from kyodo.labels import SchemeRegistry
from kyodo.scheme_files import default_registry


@pytest.fixture(scope="session")
def registry() -> SchemeRegistry:
    return default_registry()
