"""The leak hunt over the real services: SQLite (a copy of one migrated template per example),
and a shorter run on PostgreSQL (skipped without it, except under CI=true)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis.stateful import run_state_machine_as_test

from tests.leakhunt import world
from tests.leakhunt.machine import LeakHunt
from tests.support import backends

pytestmark = pytest.mark.slow  # fuzzing: a bounded hunt still takes tens of seconds


def test_nothing_leaks_on_sqlite() -> None:
    run_state_machine_as_test(LeakHunt, settings=world.hunt_settings())


def test_nothing_leaks_on_postgresql(pg_template: backends.PgTemplate | None) -> None:
    backends.require_postgres()
    assert pg_template is not None
    template = pg_template

    class OnPostgres(LeakHunt):
        @staticmethod
        def database() -> tuple[str, Callable[[], None]]:
            name = asyncio.run(template.create_copy())
            return backends.pg_url(name), lambda: asyncio.run(template.drop(name))

    run_state_machine_as_test(
        OnPostgres, settings=world.hunt_settings(max(3, world.EXAMPLES // 5), world.STEPS)
    )
