"""Live delivery: each connection gets, from a bounded queue, only the events its person may read.

The hub is transport-agnostic (the WebSocket adapter is in kyodo.api.stream; the app gives it the
API's renderer of messages). It is a bus handler: for every event it asks the policy (cached) per
connection, serialises each event once, and never waits on a connection: a full queue closes that
connection with a reason instead of slowing others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from kyodo.bus.events import (
    MembershipChanged,
    MessageChanged,
    SessionEnded,
    SubjectChanged,
    TrackChanged,
    TrackDeleted,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from kyodo.bus.events import Event
    from kyodo.domain.nets import Message
    from kyodo.domain.tracks import Track
    from kyodo.policy import DecisionCache, Subject

SLOW_CONSUMER = "slow consumer: the queue overflowed; reconnect with the last rev you saw"
SESSION_ENDED = "the session has ended; log in again"
_CLOSED = (-1, "")  # wakes a reader waiting on an empty queue when its connection closes


class LiveConnection:
    """One client's subscription: its person, nets, and queue of wire-ready JSON texts."""

    def __init__(self, subject: Subject, max_queue: int, session_hash: str | None = None) -> None:
        self.subject = subject
        self.session_hash = session_hash
        self.nets: set[str] = set()
        self.queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(max_queue)
        self.closed_reason: str | None = None

    @property
    def person_id(self) -> str:
        return self.subject.id

    def offer(self, rev: int, wire: str) -> None:
        """Enqueue without waiting; on overflow the connection is closed, never the sender held."""
        if self.closed_reason is not None:
            return
        try:
            self.queue.put_nowait((rev, wire))
        except asyncio.QueueFull:
            self.close(SLOW_CONSUMER)

    def close(self, reason: str) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
            # A full queue has no reader waiting on it; an empty one may: wake it.
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(_CLOSED)

    async def next(self) -> tuple[int, str] | None:
        """The next (rev, text) to send, or None once the connection is closed."""
        if self.closed_reason is not None:
            return None
        item = await self.queue.get()  # one await per event: no helper tasks on the hot path
        if item is _CLOSED or self.closed_reason is not None:
            return None
        return item


class LiveHub:
    """Fans events out to live connections, deciding per recipient with the policy."""

    def __init__(
        self,
        decisions: DecisionCache,
        max_queue: int = 1000,
        *,
        render_message: Callable[[Message, str], Mapping[str, Any]],
        render_track: Callable[[Track], str] | None = None,
        render_track_deleted: Callable[[Track], str] | None = None,
    ) -> None:
        """`render_message(message, author)` gives a message as the frames carry it (the
        transport's JSON form: the hub renders each event once, for every recipient)."""
        self._decisions = decisions
        self._render_message = render_message
        self.max_queue = max_queue
        # The transport's form of a track (the hub knows no wire format): made once per event.
        self._render_track = render_track
        self._render_track_deleted = render_track_deleted
        self._by_net: dict[str, set[LiveConnection]] = {}
        self._by_person: dict[str, set[LiveConnection]] = {}
        self._track_watchers: set[LiveConnection] = set()

    def connect(self, subject: Subject, session_hash: str | None = None) -> LiveConnection:
        """A new connection for a person (not yet subscribed to any net), opened with the
        session or token whose end closes it."""
        conn = LiveConnection(subject, self.max_queue, session_hash)
        self._by_person.setdefault(subject.id, set()).add(conn)
        return conn

    def subscribe(self, conn: LiveConnection, net_ids: Iterable[str]) -> None:
        """Deliver these nets' events to the connection (membership is checked by the caller)."""
        for net_id in net_ids:
            conn.nets.add(net_id)
            self._by_net.setdefault(net_id, set()).add(conn)

    def watch_tracks(self, conn: LiveConnection) -> None:
        """Deliver track changes (those the connection's person may read) to it."""
        if self._render_track is None:
            raise RuntimeError("this hub was made without render_track: it cannot send tracks")
        self._track_watchers.add(conn)

    def disconnect(self, conn: LiveConnection) -> None:
        """Forget the connection."""
        conn.close("disconnected")
        self._track_watchers.discard(conn)
        for net_id in conn.nets:
            self._by_net.get(net_id, set()).discard(conn)
        self._by_person.get(conn.person_id, set()).discard(conn)

    def connections(self) -> int:
        return sum(len(c) for c in self._by_person.values())

    def handle(self, event: Event) -> None:
        """The bus handler."""
        if isinstance(event, MessageChanged):
            self._message(event)
        elif isinstance(event, MembershipChanged):
            if not event.joined:
                self._left(event)
        elif isinstance(event, TrackChanged):
            self._track(event)
        elif isinstance(event, TrackDeleted):
            self._track_deleted(event)
        elif isinstance(event, SubjectChanged):
            for conn in self._by_person.get(event.subject.id, ()):
                conn.subject = event.subject
        elif isinstance(event, SessionEnded):
            for conn in tuple(self._by_person.get(event.person_id, ())):
                if event.session_hash is None or conn.session_hash == event.session_hash:
                    conn.close(SESSION_ENDED)

    def _message(self, event: MessageChanged) -> None:
        wire: str | None = None
        hidden: str | None = None
        can_read = self._decisions.can_read
        for conn in tuple(self._by_net.get(event.net_id, ())):
            if can_read(conn.subject, event.label):
                if wire is None:
                    wire = _dumps(
                        {
                            "type": "message",
                            "kind": event.kind,
                            "rev": event.rev,
                            "message": self._render_message(event.message, event.author),
                        }
                    )
                conn.offer(event.rev, wire)
            elif event.previous is not None and can_read(conn.subject, event.previous):
                # The edit raised the label above this reader: withdraw what they saw before.
                if hidden is None:
                    hidden = _dumps(
                        {
                            "type": "message.hidden",
                            "rev": event.rev,
                            "net_id": event.net_id,
                            "seq": event.seq,
                        }
                    )
                conn.offer(event.rev, hidden)

    def _track(self, event: TrackChanged) -> None:
        render = self._render_track
        if render is None:
            return  # no connection can watch tracks
        wire: str | None = None
        label = event.label  # a property: read once, not once per connection
        can_read = self._decisions.can_read
        for conn in tuple(self._track_watchers):
            if can_read(conn.subject, label):
                if wire is None:
                    wire = render(event.track)
                conn.offer(0, wire)

    def _track_deleted(self, event: TrackDeleted) -> None:
        render = self._render_track_deleted
        if render is None:
            return  # the transport shows no deletes
        wire: str | None = None
        label = event.label
        can_read = self._decisions.can_read
        for conn in tuple(self._track_watchers):
            if can_read(conn.subject, label):  # only those who could see the track
                if wire is None:
                    wire = render(event.track)
                conn.offer(0, wire)

    def _left(self, event: MembershipChanged) -> None:
        notice = _dumps({"type": "net.left", "net_id": event.net_id, "reason": event.reason})
        for conn in tuple(self._by_person.get(event.person_id, ())):
            if event.net_id in conn.nets:
                conn.nets.discard(event.net_id)
                self._by_net.get(event.net_id, set()).discard(conn)
                conn.offer(0, notice)


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
