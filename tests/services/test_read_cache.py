"""The read cache: entries expire, and changes made through the services take effect at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from kyodo.bus.events import SessionEnded
from kyodo.errors import Unauthenticated
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.services.read_cache import MISSING, REFRESH_AFTER, ReadCache, TtlMap

from tests.support.factories import add_person, bearer, login
from tests.support.wait import wait_for


def test_entries_expire_after_the_ttl() -> None:
    now = [100.0]
    cache: TtlMap[str, int] = TtlMap(2.0, 10, lambda: now[0])
    cache.put("a", 1)
    assert cache.get("a") == 1
    now[0] += 1.49  # entries expire in the last quarter of the TTL (spread, not all at once)
    assert cache.get("a") == 1
    now[0] += 0.52
    assert cache.get("a") is MISSING
    assert len(cache) == 0


def test_a_cached_none_is_not_a_miss_and_zero_ttl_caches_nothing() -> None:
    cache: TtlMap[str, int | None] = TtlMap(5.0, 10)
    cache.put("nobody", None)
    assert cache.get("nobody") is None
    off: TtlMap[str, int] = TtlMap(0.0, 10)
    off.put("a", 1)
    assert off.get("a") is MISSING


def test_the_map_stays_bounded() -> None:
    cache: TtlMap[int, int] = TtlMap(60.0, 3)
    for n in range(10):
        cache.put(n, n)
        assert len(cache) <= 3
    assert cache.get(9) == 9


async def test_concurrent_misses_share_one_load() -> None:
    loads = 0
    gate = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await gate.wait()
        return 42

    cache: TtlMap[str, int] = TtlMap(60.0, 10)
    waiting = [asyncio.ensure_future(cache.fetch("k", load)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [42] * 10
    assert loads == 1
    assert await cache.fetch("k", load) == 42 and loads == 1  # now cached


async def test_an_entry_in_use_is_reloaded_in_the_background_before_it_expires() -> None:
    now = [100.0]
    cache: TtlMap[str, int] = TtlMap(10.0, 10, lambda: now[0])
    values = iter([1, 2])

    async def load() -> int:
        return next(values)

    assert await cache.fetch("k", load) == 1
    now[0] += 10.0 * REFRESH_AFTER  # past the reload point, before expiry
    assert await cache.fetch("k", load) == 1  # answered at once, from the cache
    await wait_for(lambda: cache.get("k") == 2)  # the background reload
    assert await cache.fetch("k", load) == 2
    assert cache.get("k") == 2


async def test_a_failed_load_is_not_cached_and_a_forget_wins_over_a_load_in_flight() -> None:
    cache: TtlMap[str, int] = TtlMap(60.0, 10)

    async def fail() -> int:
        raise Unauthenticated("no such session")

    with pytest.raises(Unauthenticated):
        await cache.fetch("k", fail)
    assert cache.get("k") is MISSING
    gate = asyncio.Event()

    async def slow() -> int:
        await gate.wait()
        return 1  # read before the change below

    pending = asyncio.ensure_future(cache.fetch("k", slow))
    await asyncio.sleep(0)
    cache.forget("k")  # the value changed meanwhile

    async def fresh() -> int:
        return 2

    assert await cache.fetch("k", fresh) == 2  # not joined to the stale load
    gate.set()
    assert await pending == 1
    assert cache.get("k") == 2  # the stale load was not stored


def test_forgetting_a_net_member_or_person_drops_the_rosters_concerned() -> None:
    reads = ReadCache(ttl=60)
    for net in ("net1", "net2", "net3"):
        reads.rosters.put(net, {})
    reads.forget_net("net1")
    assert reads.rosters.get("net1") is MISSING
    assert reads.rosters.get("net2") == {}
    reads.forget_member("net2")
    assert reads.rosters.get("net2") is MISSING
    assert reads.rosters.get("net3") == {}
    reads.forget_person("p1")
    assert reads.rosters.get("net3") is MISSING


async def test_logout_and_a_disabled_account_end_a_cached_session_at_once(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    person = await add_person(ctx, operator, "cached.user")
    await add_person(ctx, operator, "cached.admin", roles=("admin",))
    ended: list[SessionEnded] = []
    ctx.bus.subscribe(
        lambda event: ended.append(event) if isinstance(event, SessionEnded) else None
    )
    headers = await login(client, "cached.user")
    assert (await client.get("/api/v1/me")).status_code == 200  # now cached
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401
    assert [e.person_id for e in ended] == [person.id]  # live connections are told, too
    assert ended[0].session_hash is not None
    token = await bearer(client, "cached.user")
    assert (await client.get("/api/v1/me", headers=token)).status_code == 200
    admin = await bearer(client, "cached.admin")
    disabled = await client.patch(
        f"/api/v1/people/{person.id}", headers=admin, json={"active": False}
    )
    assert disabled.status_code == 200, disabled.text
    assert (await client.get("/api/v1/me", headers=token)).status_code == 401
    assert ended[-1] == SessionEnded(person.id)  # all of a disabled person's sessions


def test_a_value_read_before_a_forget_is_not_stored() -> None:
    cache: TtlMap[str, int] = TtlMap(60.0, 10)
    read_at = cache.generation
    cache.forget("k")  # a change committed while the value was being read
    cache.put("k", 1, read_at=read_at)
    assert cache.get("k") is MISSING
    cache.put("k", 2, read_at=cache.generation)
    assert cache.get("k") == 2
