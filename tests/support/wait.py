"""Waiting for a condition instead of sleeping a fixed time: a test goes on as soon as what it
waits for is true, and fails with a message when it never becomes true."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Generous: a 2-core CI machine shared with other jobs can take seconds to schedule a thread.
TIMEOUT = 10.0


async def wait_for(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = TIMEOUT,  # noqa: ASYNC109 (a poll's deadline, not one await's)
    interval: float = 0.01,
    message: str = "",
) -> T:
    """Poll `predicate` (sync or async) until it returns something true; returns that value.
    Fails the test (AssertionError) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s: {predicate}")
        await asyncio.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def wait_until(
    predicate: Callable[[], T],
    timeout: float = TIMEOUT,
    interval: float = 0.01,
    message: str = "",
) -> T:
    """`wait_for` for synchronous tests (a live server, a subprocess)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)
