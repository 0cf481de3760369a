"""Group commit: concurrent writes of one kind share a transaction, in the order they arrived.

A post costs a handful of statements but a transaction costs a lock, a commit and, on SQLite, a
turn of the single writer; under load the transactions, not the statements, are the queue. Here
a write waits while the previous batch commits and then goes with everything that queued behind
it, so the per-transaction cost is paid once per batch. A batch that fails is written again one
item at a time, so one bad item fails alone.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

T = TypeVar("T")
R = TypeVar("R")


class _Queue(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]]) -> None:
        self.write = write
        self.pending: list[tuple[T, asyncio.Future[R]]] = []
        self.runner: asyncio.Task[None] | None = None


class GroupCommit:
    """Batches writes by kind; `max_batch` bounds one transaction."""

    def __init__(self, max_batch: int = 64) -> None:
        self.max_batch = max_batch
        self._queues: dict[str, _Queue[Any, Any]] = {}
        self.batches = 0  # transactions written (for tests and the benchmark)

    async def submit(
        self, kind: str, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], item: T
    ) -> R:
        """Write `item` with `write` (which gets a batch, returns one result per item, in order)."""
        return await self.enqueue(kind, write, item)

    def enqueue(
        self, kind: str, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], item: T
    ) -> asyncio.Future[R]:
        """Queue `item` and return the future of its result, for callers that do not wait."""
        queue: _Queue[T, R] | None = self._queues.get(kind)
        if queue is None or queue.runner is None:
            queue = _Queue(write)
            self._queues[kind] = queue
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue.pending.append((item, future))
        if queue.runner is None:
            queue.runner = asyncio.create_task(self._drain(queue))
        return future

    async def flush(self) -> None:
        """Wait until everything queued so far is written (at shutdown, and in tests)."""
        while runners := [q.runner for q in self._queues.values() if q.runner is not None]:
            await asyncio.gather(*runners, return_exceptions=True)

    async def _drain(self, queue: _Queue[T, R]) -> None:
        try:
            while queue.pending:
                batch = queue.pending[: self.max_batch]
                del queue.pending[: self.max_batch]
                await self._run(queue, batch)
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for _, future in queue.pending:
                if not future.done():
                    future.set_exception(exc)
            queue.pending.clear()
            raise
        finally:
            queue.runner = None

    async def _run(self, queue: _Queue[T, R], batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            await self._write(queue, batch)
        except asyncio.CancelledError as exc:  # the batch in flight, too: nobody waits forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise

    async def _write(self, queue: _Queue[T, R], batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            self.batches += 1
            results = await queue.write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            for one in batch:  # one bad item must not fail the others
                await self._write(queue, [one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
