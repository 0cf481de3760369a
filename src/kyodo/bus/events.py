"""Events on the bus: what changed, in which net, under which label (no policy decisions here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kyodo.domain.nets import Message
    from kyodo.domain.tracks import Track
    from kyodo.labels import Label
    from kyodo.policy import Subject


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A message was posted, edited or deleted. `previous` is the label before an edit.

    `message` is the stored message (a deleted one still holds its text: each transport renders
    it as members see it, once per event); the live hub decides per recipient whether to
    deliver it. `received` is the post as its sender's transport parsed it (for GeoChat, the CoT
    event), for a transport that passes it on as sent; the bus and the services never look
    into it.
    """

    kind: str  # "posted", "edited", "deleted"
    message: Message
    author: str  # the author's username (their id if their record is gone)
    previous: Label | None = None
    origin: str | None = None  # the connection it came in on, e.g. a TAK client (not echoed)
    received: object = field(default=None, compare=False, repr=False)

    @property
    def net_id(self) -> str:
        return self.message.net_id

    @property
    def seq(self) -> int:
        return self.message.seq

    @property
    def rev(self) -> int:
        return self.message.rev

    @property
    def label(self) -> Label:
        return self.message.label


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    """A person joined or left a net."""

    net_id: str
    person_id: str
    joined: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SubjectChanged:
    """A person's clearance, nation or grants changed: live connections must use the new ones."""

    subject: Subject


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session or token ended (logout), or all of a person's did (disabled, new password):
    live connections opened with it must stop. `session_hash` None means all of the person's."""

    person_id: str
    session_hash: str | None = None


@dataclass(frozen=True, slots=True)
class TrackChanged:
    """A track's position or state changed. Each transport renders `track` in its own form,
    once per event whatever the number of recipients.

    `received` is the report as its sender's transport parsed it (for CoT, the event with the
    bytes it came in), for a transport that passes it on as sent rather than re-render the
    track; the bus and the services never look into it.
    """

    track: Track
    origin: str | None = None  # the connection that reported it (not echoed back to it)
    received: object = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> Label:
        """The track's label: who may receive the event."""
        return self.track.label


@dataclass(frozen=True, slots=True)
class TrackDeleted:
    """A track left the picture (its row and history are kept). `track` is the track as it was
    when deleted: its label says who may learn of the delete (those who could see it).

    `received` is the delete as its sender's transport parsed it (for CoT, the `t-x-d-d`
    event), for that transport to pass on as sent; the bus and the services never look into
    it."""

    track: Track
    by: str  # the subject id of who deleted it
    origin: str | None = None  # the connection the delete came in on (not echoed back to it)
    received: object = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> Label:
        """The deleted track's label: who may receive the event."""
        return self.track.label


Event = (
    MessageChanged | MembershipChanged | SubjectChanged | SessionEnded | TrackChanged | TrackDeleted
)
