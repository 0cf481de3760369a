"""Fixtures for the spillage guard: the shipped schemes and rules, and a marking parser."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kyodo.labels import Label, SchemeRegistry, parse_marking
from kyodo.scheme_files import default_registry
from kyodo.spillage import RuleSet
from kyodo.spillage_files import default_rules


@pytest.fixture(scope="session")
def registry() -> SchemeRegistry:
    return default_registry()


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return default_rules()


@pytest.fixture(scope="session")
def label(registry: SchemeRegistry) -> Callable[[str], Label]:
    def parse(marking: str) -> Label:
        return parse_marking(marking, registry)

    return parse
