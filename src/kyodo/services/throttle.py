"""Counts failed logins per account and per address in a sliding window (per process)."""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from kyodo.errors import RateLimited

if TYPE_CHECKING:
    from collections.abc import Callable


class LoginThrottle:
    """Refuses further attempts once an account or an address has failed too often."""

    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        found = self._failures.setdefault(key, deque())
        while found and now - found[0] > self.window:
            found.popleft()
        return found

    def check(self, account: str, address: str) -> None:
        """RateLimited if either the account or the address is over its limit."""
        for key, limit in (
            (f"acct:{account.casefold()}", self.per_account),
            (f"addr:{address}", self.per_address),
        ):
            recent = self._recent(key)
            if len(recent) >= limit:
                wait = int(self.window - (self._clock() - recent[0])) + 1
                raise RateLimited("too many failed logins; try again later", retry_after=wait)

    def failed(self, account: str, address: str) -> None:
        """Count one failure against both the account and the address."""
        now = self._clock()
        self._recent(f"acct:{account.casefold()}").append(now)
        self._recent(f"addr:{address}").append(now)

    def succeeded(self, account: str) -> None:
        """Forget the account's failures (the address keeps its count)."""
        self._failures.pop(f"acct:{account.casefold()}", None)
