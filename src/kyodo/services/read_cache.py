"""Short-lived, process-local copies of the hot reads: sessions, people, nets, rosters, feeds.

Every request reads its session, its person, and for a net its membership; caching them takes
two transactions off each post. Memberships are kept as each net's whole roster, so keeping them
fresh costs one read per net, not one per member who posts. A change made through this
process's services forgets the entries it affects at once; a change made elsewhere (another
instance, the CLI) is seen within `ttl` seconds, which bounds how long a revoked session or a
removed member can keep acting there.

`fetch` loads a missing entry once however many requests ask for it at the same moment, and
reloads an entry in use in the background before it expires: under load a busy key is never
missing, and no request waits for its reload (a burst of identical loads at each expiry cost
a third of a busy server's time).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Generic, TypeVar

import structlog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from kyodo.domain.identity import Person
    from kyodo.domain.nets import Member, Net
    from kyodo.domain.tracks import Feed
    from kyodo.services.ports import SessionRecord

K = TypeVar("K")
V = TypeVar("V")
log = structlog.get_logger(__name__)
REFRESH_AFTER = 0.6  # share of the TTL after which using an entry also reloads it


class Missing:
    """The answer for a key that is not cached (distinct from a cached None)."""


MISSING = Missing()


class TtlMap(Generic[K, V]):
    """A bounded map whose entries expire `ttl` seconds after they were stored."""

    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        # key -> (reload after, expires at, value)
        self._entries: dict[K, tuple[float, float, V]] = {}
        self._loading: dict[K, asyncio.Task[V]] = {}
        self._generation = 0  # moves on every forget: a load begun before it is not stored

    def get(self, key: K) -> V | Missing:
        entry = self._entries.get(key)
        if entry is None:
            return MISSING
        if entry[1] <= self._clock():
            del self._entries[key]
            return MISSING
        return entry[2]

    async def fetch(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, else what `load` returns (stored; an exception is not). Callers
        asking for the same key while it loads share the load; an entry past `REFRESH_AFTER`
        of its TTL is returned as it is and reloaded in the background."""
        if self.ttl <= 0:
            return await load()
        entry = self._entries.get(key)
        if entry is not None:
            now = self._clock()
            if now < entry[0]:
                return entry[2]
            if now < entry[1]:
                if key not in self._loading:
                    _ = self._start(key, load, background=True)
                return entry[2]
            del self._entries[key]
        task = self._loading.get(key) or self._start(key, load, background=False)
        # shield: a caller that gives up (its request cancelled) must not cancel the others'.
        return await asyncio.shield(task)

    def _start(
        self, key: K, load: Callable[[], Awaitable[V]], *, background: bool
    ) -> asyncio.Task[V]:
        generation = self._generation
        task = asyncio.ensure_future(load())
        self._loading[key] = task

        def done(finished: asyncio.Task[V]) -> None:
            if self._loading.get(key) is finished:
                del self._loading[key]
            if finished.cancelled():
                return
            error = finished.exception()
            if error is not None:
                if background:  # the entry stays until it expires; the next use tries again
                    log.warning("read cache reload failed", error=str(error))
                return
            self.put(key, finished.result(), read_at=generation)

        task.add_done_callback(done)
        return task

    @property
    def generation(self) -> int:
        """Moves on every forget; pass it to `put` to store only if nothing was forgotten since
        the value was read."""
        return self._generation

    def put(self, key: K, value: V, *, read_at: int | None = None) -> None:
        if self.ttl <= 0 or (read_at is not None and read_at != self._generation):
            return
        if len(self._entries) >= self.max_entries and key not in self._entries:
            # Cheap bound: start again rather than track recency; a refill costs one read each.
            self._entries.clear()
        # Spread over the last quarter of the TTL, so entries loaded together (at start, after a
        # change) do not all expire, and all reload, at the same moment.
        spread = 0.75 + 0.25 * random.random()  # noqa: S311 - jitter, not a secret
        now = self._clock()
        self._entries[key] = (
            now + self.ttl * REFRESH_AFTER * spread,
            now + self.ttl * spread,
            value,
        )

    def forget(self, key: K) -> None:
        self._generation += 1
        self._loading.pop(key, None)
        self._entries.pop(key, None)

    def forget_where(self, test: Callable[[K], bool]) -> None:
        self._generation += 1
        for key in [k for k in self._loading if test(k)]:
            del self._loading[key]
        for key in [k for k in self._entries if test(k)]:
            del self._entries[key]

    def clear(self) -> None:
        self._generation += 1
        self._loading.clear()
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class ReadCache:
    """The hot reads; `ttl` 0 turns caching off."""

    def __init__(
        self, ttl: float = 5.0, max_entries: int = 100_000, clock: Callable[[], float] | None = None
    ) -> None:
        now = clock or time.monotonic
        self.sessions: TtlMap[str, SessionRecord] = TtlMap(ttl, max_entries, now)
        self.people: TtlMap[str, Person] = TtlMap(ttl, max_entries, now)
        self.nets: TtlMap[str, Net] = TtlMap(ttl, max_entries, now)
        self.rosters: TtlMap[str, Mapping[str, Member]] = TtlMap(ttl, max_entries, now)
        self.feeds: TtlMap[str, Feed] = TtlMap(ttl, max_entries, now)

    def forget_person(self, person_id: str) -> None:
        """A person changed (clearance, roles, password, active): drop them and their sessions."""
        self.people.forget(person_id)
        self.sessions.clear()  # rare, and sessions are not indexed by person
        self.rosters.clear()  # as rare; rosters are not indexed by person either

    def forget_net(self, net_id: str) -> None:
        """A net or its membership changed."""
        self.nets.forget(net_id)
        self.rosters.forget(net_id)

    def forget_member(self, net_id: str) -> None:
        """A membership of the net changed."""
        self.rosters.forget(net_id)
