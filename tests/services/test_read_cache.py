"""The read cache: entries expire, and changes made through the services take effect at once."""

from __future__ import annotations

import httpx

from kyodo.bus.events import SessionEnded
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.services.read_cache import MISSING, ReadCache, TtlMap

from tests.support.factories import add_person, bearer, login


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


def test_forgetting_a_net_or_person_drops_their_memberships() -> None:
    reads = ReadCache(ttl=60)
    reads.members.put(("net1", "p1"), None)
    reads.members.put(("net1", "p2"), None)
    reads.members.put(("net2", "p1"), None)
    reads.forget_net("net1")
    assert reads.members.get(("net1", "p2")) is MISSING
    assert reads.members.get(("net2", "p1")) is None
    reads.forget_person("p1")
    assert reads.members.get(("net2", "p1")) is MISSING


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
