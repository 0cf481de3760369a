"""Who owns each uid, as this process last stored it: the cheap check of a CoT position."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from kyodo.policy.tracks import TrackFacts


class TrackOwners:
    """uid -> the facts of the stored track (label, feed, originator), as committed by this
    process, for `ttl` seconds after the last write that confirmed them; and the uids with a
    write in flight whose outcome is not known yet.

    A report that matches its uid's entry exactly (from the originator, same label, same
    feed) while nothing else is in flight for the uid would be allowed against the stored
    state too, so it can be published before it is written. Anything else waits for the
    write, which checks against the stored state. An entry can only be wrong by a change
    made by another process since, which that write then refuses."""

    def __init__(
        self,
        ttl: float = 300.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._facts: dict[str, tuple[float, TrackFacts]] = {}
        self._unsettled: dict[str, int] = {}

    def settled(self, uid: str, report: TrackFacts) -> bool:
        """Whether `report` is its uid's entry exactly, with nothing else in flight."""
        if uid in self._unsettled:
            return False
        entry = self._facts.get(uid)
        if entry is None:
            return False
        if entry[0] <= self._clock():
            del self._facts[uid]
            return False
        facts = entry[1]
        return (
            facts.originator == report.originator
            and facts.label == report.label
            and facts.feed == report.feed
        )

    def unsettle(self, uid: str) -> None:
        """A write whose outcome is unknown is in flight for `uid`."""
        self._unsettled[uid] = self._unsettled.get(uid, 0) + 1

    def settle(self, uid: str) -> None:
        """That write is done."""
        left = self._unsettled.get(uid, 0) - 1
        if left > 0:
            self._unsettled[uid] = left
        else:
            self._unsettled.pop(uid, None)

    def stored(self, uid: str, facts: TrackFacts) -> None:
        """`facts` are what is stored for `uid` now (a write was just committed)."""
        self._facts.pop(uid, None)
        if len(self._facts) >= self.max_entries:
            del self._facts[next(iter(self._facts))]
        self._facts[uid] = (self._clock() + self.ttl, facts)

    def forget(self, uid: str) -> None:
        """What is stored for `uid` is not known (a write was refused or failed)."""
        self._facts.pop(uid, None)
