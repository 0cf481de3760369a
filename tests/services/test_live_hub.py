"""The live hub: per-recipient filtering, one slow client never holds up the others."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from functools import partial

from kyodo.api.track_json import track_deleted_frame, track_frame
from kyodo.bus.events import (
    MembershipChanged,
    MessageChanged,
    SessionEnded,
    SubjectChanged,
    TrackDeleted,
)
from kyodo.bus.memory import InProcessBus
from kyodo.domain.nets import Message
from kyodo.domain.tracks import Position, Track
from kyodo.labels import parse_marking
from kyodo.policy import DecisionCache, make_subject
from kyodo.scheme_files import default_registry
from kyodo.services.live import SESSION_ENDED, SLOW_CONSUMER, LiveHub

REGISTRY = default_registry()
US = make_subject(REGISTRY, id="us", nation="USA", clearance="TOP SECRET", grants=["SI"])
JP = make_subject(REGISTRY, id="jp", nation="JPN", clearance="GOKUHI")


def _event(rev: int, marking: str, net: str = "n1", previous: str | None = None) -> MessageChanged:
    label = parse_marking(marking, REGISTRY)
    message = Message(rev, net, "us", label, f"m{rev}", "", datetime.now(UTC), rev=rev)
    return MessageChanged(
        "posted",
        message,
        "us",
        previous=parse_marking(previous, REGISTRY) if previous else None,
    )


def _render(message: Message, author: str) -> dict[str, object]:
    """What the hub's frames carry is the transport's to say: here, the seq and text."""
    return {"seq": message.seq, "text": message.text}


def _hub(max_queue: int = 1000) -> LiveHub:
    return LiveHub(DecisionCache(), max_queue, render_message=_render)


async def _drain(conn: object) -> list[dict[str, object]]:
    out = []
    queue = conn.queue  # type: ignore[attr-defined]
    while not queue.empty():
        out.append(json.loads(queue.get_nowait()[1]))
    return out


async def test_each_connection_gets_only_what_its_person_may_read() -> None:
    bus = InProcessBus()
    hub = _hub(100)
    bus.subscribe(hub.handle)
    us, jp = hub.connect(US), hub.connect(JP)
    hub.subscribe(us, ["n1"])
    hub.subscribe(jp, ["n1"])
    await bus.publish(_event(1, "SECRET//REL TO USA, JPN"))
    await bus.publish(_event(2, "SECRET//NOFORN"))
    await bus.publish(_event(3, "TOP SECRET//SI//NOFORN"))
    await bus.publish(_event(4, "SECRET//REL TO USA, JPN", net="other"))
    assert [e["message"]["seq"] for e in await _drain(us)] == [1, 2, 3]  # type: ignore[index]
    assert [e["message"]["seq"] for e in await _drain(jp)] == [1]  # type: ignore[index]


async def test_an_edit_above_a_reader_withdraws_the_message() -> None:
    hub = _hub()
    jp = hub.connect(JP)
    hub.subscribe(jp, ["n1"])
    hub.handle(_event(5, "SECRET//NOFORN", previous="SECRET//REL TO USA, JPN"))
    assert await _drain(jp) == [{"type": "message.hidden", "rev": 5, "net_id": "n1", "seq": 5}]


async def test_a_slow_connection_is_closed_and_the_others_carry_on() -> None:
    hub = _hub(5)
    slow, fast = hub.connect(US), hub.connect(US)
    hub.subscribe(slow, ["n1"])
    hub.subscribe(fast, ["n1"])
    received = []
    for rev in range(1, 21):
        hub.handle(_event(rev, "UNCLASSIFIED"))
        item = await fast.next()
        assert item is not None
        received.append(item[0])
    assert received == list(range(1, 21))
    assert slow.closed_reason == SLOW_CONSUMER
    assert await slow.next() is None


async def test_removal_and_new_clearance_reach_open_connections() -> None:
    hub = _hub()
    jp = hub.connect(JP)
    hub.subscribe(jp, ["n1"])
    hub.handle(MembershipChanged("n1", "jp", joined=False, reason="removed"))
    assert await _drain(jp) == [{"type": "net.left", "net_id": "n1", "reason": "removed"}]
    hub.handle(_event(1, "UNCLASSIFIED"))
    assert await _drain(jp) == []
    hub.subscribe(jp, ["n2"])
    lowered = make_subject(REGISTRY, id="jp", nation="JPN", clearance="HI")
    hub.handle(SubjectChanged(lowered))
    hub.handle(_event(2, "SECRET//REL TO USA, JPN", net="n2"))
    assert await _drain(jp) == []


async def test_next_wakes_up_when_an_event_arrives() -> None:
    hub = _hub()
    us = hub.connect(US)
    hub.subscribe(us, ["n1"])
    waiter = asyncio.ensure_future(us.next())
    await asyncio.sleep(0.01)
    hub.handle(_event(7, "UNCLASSIFIED"))
    item = await asyncio.wait_for(waiter, 1)
    assert item is not None and item[0] == 7


async def test_the_end_of_a_session_closes_the_connections_opened_with_it() -> None:
    hub = _hub(10)
    browser, script, other_person = hub.connect(US, "s1"), hub.connect(US, "t1"), hub.connect(JP)
    waiting = asyncio.ensure_future(browser.next())
    await asyncio.sleep(0)
    hub.handle(SessionEnded("us", "s1"))  # logout of that browser session
    assert await asyncio.wait_for(waiting, 1) is None  # a waiting reader wakes up
    assert browser.closed_reason == SESSION_ENDED
    assert script.closed_reason is None and other_person.closed_reason is None
    hub.handle(SessionEnded("us"))  # every session of the person (disabled, new password)
    assert script.closed_reason == SESSION_ENDED and other_person.closed_reason is None


def _track(uid: str, marking: str) -> Track:
    now = datetime.now(UTC)
    return Track(
        uid=uid,
        type="a-f-S-C-L",
        sidc="SFSPCL----",
        callsign=uid.upper(),
        position=Position(35.0, 139.0, now),
        start=now,
        stale=now,
        label=parse_marking(marking, REGISTRY),
        feed_id="f1",
    )


async def test_a_deleted_track_reaches_only_watchers_who_may_read_it() -> None:
    hub = LiveHub(
        DecisionCache(),
        100,
        render_message=_render,
        render_track=partial(track_frame, REGISTRY),
        render_track_deleted=partial(track_deleted_frame, REGISTRY),
    )
    us, jp, not_watching = hub.connect(US), hub.connect(JP), hub.connect(US)
    hub.watch_tracks(us)
    hub.watch_tracks(jp)
    hub.handle(TrackDeleted(_track("noforn", "SECRET//NOFORN"), "us"))
    hub.handle(TrackDeleted(_track("shared", "SECRET//REL TO USA, JPN"), "us"))
    assert await _drain(us) == [
        {"type": "track_deleted", "uid": "noforn"},
        {"type": "track_deleted", "uid": "shared"},
    ]
    assert await _drain(jp) == [{"type": "track_deleted", "uid": "shared"}]
    assert await _drain(not_watching) == []
