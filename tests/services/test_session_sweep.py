"""Expired sessions are purged (and the purge audited); live ones and the chain are untouched."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kyodo.errors import Unauthenticated
from kyodo.services import auth
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.services.session_sweep import SessionSweeper, purge_expired

from tests.support.factories import PASSWORD, add_person


async def _purges(ctx: ServiceContext) -> list[dict[str, object]]:
    async with ctx.db.transaction(write=False) as tx:
        return [r.entry.details async for r in tx.audit.walk() if r.entry.action == "session.purge"]


async def test_expired_sessions_are_purged_and_live_ones_kept(
    ctx: ServiceContext, operator: Actor
) -> None:
    await add_person(ctx, operator, "sweep.old")
    await add_person(ctx, operator, "sweep.new")
    start = ctx.clock()
    old = await auth.login(ctx, "sweep.old", PASSWORD, "127.0.0.1")
    ctx.clock = lambda: start + timedelta(minutes=10)
    new = await auth.login(ctx, "sweep.new", PASSWORD, "127.0.0.1")
    ctx.clock = lambda: start + ctx.session_ttl + timedelta(minutes=1)
    assert await purge_expired(ctx) == 1
    assert await purge_expired(ctx) == 0  # nothing more: and no empty record
    assert await _purges(ctx) == [{"count": 1}]
    with pytest.raises(Unauthenticated):
        await auth.authenticate(ctx, old.token, kind="session")
    assert (await auth.authenticate(ctx, new.token, kind="session")).subject.id == new.person.id


async def test_the_sweeper_purges_at_start_and_stops(ctx: ServiceContext, operator: Actor) -> None:
    await add_person(ctx, operator, "sweep.start")
    await auth.login(ctx, "sweep.start", PASSWORD, "127.0.0.1")
    now = ctx.clock()
    ctx.clock = lambda: now + ctx.session_ttl + timedelta(seconds=1)
    sweeper = SessionSweeper(ctx, every_seconds=3600)
    sweeper.start()
    for _ in range(200):
        if await _purges(ctx):
            break
        await asyncio.sleep(0.01)
    await sweeper.stop()
    assert await _purges(ctx) == [{"count": 1}]
