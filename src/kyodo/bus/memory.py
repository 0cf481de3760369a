"""The in-process bus of the embedded default: handlers are called in publish order."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from kyodo.bus.events import Event


class InProcessBus:
    """Delivers each event to every subscribed handler, synchronously and in order.

    Handlers must not block (the live hub only enqueues), so a publisher is never held up.
    """

    def __init__(self) -> None:
        self._handlers: list[Callable[[Event], None]] = []

    def subscribe(self, handler: Callable[[Event], None]) -> None:
        """Call `handler` for every event published from now on."""
        self._handlers.append(handler)

    def unsubscribe(self, handler: Callable[[Event], None]) -> None:
        """Stop calling `handler`."""
        self._handlers.remove(handler)

    async def publish(self, event: Event) -> None:
        """Hand the event to every handler (after the change has been committed)."""
        for handler in list(self._handlers):
            handler(event)
