"""Slows password guessing per account and per address without locking the real user out.

Failures are counted in a sliding window on three keys: the (account, address) pair, the
account (from every address) and the address (for every account). An attempt is refused
(429, before the password is checked) when

- its pair has failed `per_account` times: the only lock a person can bring on themselves;
- its account has failed `per_account` times from anywhere (one account guessed from many
  addresses), unless the account logged in from this address lately;
- its address has failed `per_address` times (many accounts guessed from one address),
  unless the account logged in from this address lately.

So other people's failures never refuse a person who logs in from where they usually do, and
a guesser gets `per_account` tries per account and `per_address` per address per window. State
is per process and bounded: each key keeps at most its limit of timestamps, and the oldest keys
are dropped beyond `max_keys`. Refusals are reported for audit once per key and window.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600.0  # a successful login vouches for its address this long


@dataclass(frozen=True, slots=True)
class Throttled:
    """A refused attempt: why, when to retry, and whether to write an audit record now
    (`refused` attempts on this key were refused since the last record)."""

    reason: str
    retry_after: int
    audit: bool
    refused: int


class LoginThrottle:
    """Counts failed logins per (account, address), account and address (see the module)."""

    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window_seconds
        self._clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        # key -> (when its last refusal was audited, refusals since)
        self._refusals: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def check(self, account: str, address: str) -> Throttled | None:
        """None if the attempt may go ahead; else why it is refused."""
        account = account.casefold()
        now = self._clock()
        known = now - self._known.get((account, address), -KNOWN_ADDRESS_SECONDS) < (
            KNOWN_ADDRESS_SECONDS
        )
        checks = [(f"pair:{account}|{address}", self.per_account, "this account from here")]
        if not known:
            checks += [
                (f"acct:{account}", self.per_account, "this account"),
                (f"addr:{address}", self.per_address, "this address"),
            ]
        for key, limit, what in checks:
            recent = self._recent(key, limit, now)
            if recent is not None and len(recent) >= limit:
                wait = int(self.window - (now - recent[0])) + 1
                audit, refused = self._refused(key, now)
                return Throttled(f"too many failed logins for {what}", wait, audit, refused)
        return None

    def failed(self, account: str, address: str) -> None:
        """Count one failure against the pair, the account and the address."""
        account = account.casefold()
        now = self._clock()
        for key, limit in (
            (f"pair:{account}|{address}", self.per_account),
            (f"acct:{account}", self.per_account),
            (f"addr:{address}", self.per_address),
        ):
            found = self._failures.get(key)
            if found is None:
                found = self._failures[key] = deque(maxlen=limit)
            found.append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, account: str, address: str) -> None:
        """Remember the address for the account; forget the pair's failures. The account's
        and the address's counts stay: a guesser's budget is not reset by someone's login."""
        account = account.casefold()
        self._failures.pop(f"pair:{account}|{address}", None)
        self._known[(account, address)] = self._clock()
        self._known.move_to_end((account, address))
        while len(self._known) > self.max_keys:
            self._known.popitem(last=False)

    def _recent(self, key: str, limit: int, now: float) -> deque[float] | None:
        found = self._failures.get(key)
        if found is None:
            return None
        while found and now - found[0] > self.window:
            found.popleft()
        if not found:
            del self._failures[key]
            return None
        return found

    def _refused(self, key: str, now: float) -> tuple[bool, int]:
        last, count = self._refusals.get(key, (-self.window - 1, 0))
        count += 1
        if now - last > self.window:
            self._refusals[key] = (now, 0)
            audit = True
        else:
            self._refusals[key] = (last, count)
            audit = False
        self._refusals.move_to_end(key)
        while len(self._refusals) > self.max_keys:
            self._refusals.popitem(last=False)
        return audit, count
