"""The shrunk examples of the leaks the hunt found, one test each, kept as regression tests
(each failed before its fix)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kyodo.domain.nets import NetRole
from kyodo.domain.tracks import Position, TrackReport
from kyodo.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from kyodo.labels import Label, parse_marking
from kyodo.policy import may_read
from kyodo.services import audit as audit_service
from kyodo.services import messages, nets, tracks
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.services.ports import AuditQuery

from tests.leakhunt import world
from tests.support.factories import add_person


def _l(ctx: ServiceContext, marking: str) -> Label:
    return parse_marking(marking, ctx.registry)


async def test_an_edit_cannot_lower_a_label(ctx: ServiceContext, operator: Actor) -> None:
    us = await add_person(ctx, operator, "us", clearance="TOP SECRET", password=None)
    a = person_actor(us, "api")
    net = await nets.create_net(ctx, a, name="n", ceiling=_l(ctx, "TOP SECRET//NOFORN"))
    posted = await messages.post_message(ctx, a, net.id, "alpha", label=_l(ctx, "SECRET//NOFORN"))
    try:
        edited = await messages.edit_message(
            ctx, a, posted.message.seq, "alpha", label=_l(ctx, "UNCLASSIFIED")
        )
    except (PermissionDenied, InvalidInput):
        return
    assert edited.label.dominates(posted.message.label), "SECRET//NOFORN edited to UNCLASSIFIED"


async def test_an_edited_reply_stays_above_what_it_answers(
    ctx: ServiceContext, operator: Actor
) -> None:
    us = await add_person(ctx, operator, "us", clearance="TOP SECRET", password=None)
    a = person_actor(us, "api")
    net = await nets.create_net(ctx, a, name="n", ceiling=_l(ctx, "TOP SECRET//NOFORN"))
    first = await messages.post_message(ctx, a, net.id, "alpha", label=_l(ctx, "SECRET//NOFORN"))
    reply = await messages.post_message(
        ctx, a, net.id, "bravo", label=_l(ctx, "UNCLASSIFIED"), reply_to=first.message.seq
    )
    assert reply.message.label.dominates(first.message.label)
    try:
        edited = await messages.edit_message(
            ctx, a, reply.message.seq, "bravo", label=_l(ctx, "UNCLASSIFIED")
        )
    except (PermissionDenied, InvalidInput):
        return
    assert edited.label.dominates(first.message.label), "a reply edited below its original"


async def test_the_export_holds_only_versions_the_officer_may_read(
    ctx: ServiceContext, operator: Actor
) -> None:
    us = await add_person(
        ctx,
        operator,
        "us",
        clearance="TOP SECRET",
        roles=("member", "may_downgrade"),
        password=None,
    )
    records = await add_person(
        ctx,
        operator,
        "records",
        nation="JPN",
        clearance="KIMITSU",
        roles=("records_officer",),
        password=None,
    )
    a = person_actor(us, "api")
    net = await nets.create_net(
        ctx,
        a,
        name="n",
        ceiling=_l(ctx, "TOP SECRET//NOFORN"),
        entry=_l(ctx, "SECRET//REL TO USA, JPN"),
    )
    await nets.add_member(ctx, a, net.id, records.id, NetRole.READ_ONLY)
    posted = await messages.post_message(ctx, a, net.id, "alpha", label=_l(ctx, "SECRET//NOFORN"))
    await messages.downgrade_message(
        ctx,
        a,
        posted.message.seq,
        _l(ctx, "SECRET//REL TO USA, JPN"),
        "Released to JJOC after review.",
    )
    reader = person_actor(records, "api")
    lines = [line async for line in messages.export_net(ctx, reader, net.id)]
    versions = [v for line in lines if line["type"] == "message" for v in line["versions"]]
    leaked = [
        v for v in versions if not may_read(records.subject(), _l(ctx, v["label"]["marking"]))
    ]
    assert not leaked, f"a JPN records officer exported {leaked}"


@pytest.mark.parametrize("role", ["admin", "security_officer", "records_officer"])
async def test_overseers_see_only_nets_they_may_read(
    ctx: ServiceContext, operator: Actor, role: str
) -> None:
    us = await add_person(ctx, operator, "us", clearance="TOP SECRET", password=None)
    low = await add_person(
        ctx, operator, "low", clearance="CONFIDENTIAL", roles=(role,), password=None
    )
    net = await nets.create_net(
        ctx, person_actor(us, "api"), name="J2 targets", ceiling=_l(ctx, "TOP SECRET//NOFORN")
    )
    reader = person_actor(low, "api")
    with pytest.raises(NotFound):
        await nets.get_net(ctx, reader, net.id)
    with pytest.raises(NotFound):
        await nets.list_members(ctx, reader, net.id)


async def test_a_rolled_back_label_is_not_remembered(ctx: ServiceContext, operator: Actor) -> None:
    us = await add_person(ctx, operator, "us", clearance="TOP SECRET", grants=("SI",))
    a = person_actor(us, "api")
    net = await nets.create_net(ctx, a, name="n", ceiling=_l(ctx, "TOP SECRET//SI//NOFORN"))
    first, second = _l(ctx, "SECRET//NOFORN"), _l(ctx, "TOP SECRET//SI//NOFORN")
    db = world.FaultyDatabase(ctx.db)
    ctx.db = db
    db.arm()  # the post's write stores SECRET//NOFORN's row, then fails: rolled back
    with pytest.raises(world.InjectedFault):
        await messages.post_message(ctx, a, net.id, "alpha", label=first)
    # A new label takes the row id the rolled-back one had (SQLite reuses it) ...
    await messages.post_message(ctx, a, net.id, "bravo", label=_l(ctx, "TOP SECRET//NOFORN"))
    # ... and the first label, used again, must still be stored as itself.
    try:
        posted = await messages.post_message(ctx, a, net.id, "charlie", label=first)
    except Conflict as exc:
        pytest.fail(f"the cached id of SECRET//NOFORN names no row: {exc.message}")
    stored = await world.stored_messages(db)
    assert stored[posted.message.seq].label == first, (
        f"posted at SECRET//NOFORN, stored at {stored[posted.message.seq].label}"
    )
    del second


async def test_a_report_cannot_take_over_a_track_it_cannot_read(
    ctx: ServiceContext, operator: Actor
) -> None:
    us = await add_person(
        ctx, operator, "us", clearance="TOP SECRET", grants=("SI", "TK"), password=None
    )
    jp = await add_person(ctx, operator, "jp", nation="JPN", clearance="HI", password=None)
    feed = await tracks.create_feed(
        ctx, operator, name="cop", ceiling=_l(ctx, "TOP SECRET//SI/TK//REL TO USA, JPN")
    )
    now = datetime.now(UTC).replace(microsecond=0)

    def report(label: str, lat: float) -> TrackReport:
        return TrackReport(
            uid="SUB-1",
            type="a-h-U-S",
            callsign="sierra",
            position=Position(lat, 139.0, now),
            start=now,
            stale=now + timedelta(hours=1),
            label=_l(ctx, label),
        )

    await tracks.report_track(
        ctx, person_actor(us, "api"), feed.id, report("TOP SECRET//SI/TK//REL TO USA, JPN", 35.0)
    )
    try:
        await tracks.report_track(
            ctx, person_actor(jp, "api"), feed.id, report("CONFIDENTIAL//REL TO USA, JPN", 1.0)
        )
    except (PermissionDenied, NotFound, Conflict):
        return
    track, _ = await tracks.track_history(ctx, person_actor(us, "api"), "SUB-1")
    assert track.label == _l(ctx, "TOP SECRET//SI/TK//REL TO USA, JPN"), (
        f"a JPN HI reporter replaced a TS//SI/TK track with one at {track.label}"
    )


async def test_security_officers_see_only_stubs_of_audit_records_above_them(
    ctx: ServiceContext, operator: Actor
) -> None:
    """Found by the hunt: list_audit gave every record to a security officer, with labels, net
    names and usernames above what the officer may read; now those are redacted stubs."""
    us = await add_person(ctx, operator, "us", clearance="TOP SECRET", password=None)
    officer = await add_person(
        ctx,
        operator,
        "officer",
        clearance="UNCLASSIFIED",
        roles=("security_officer",),
        password=None,
    )
    await nets.create_net(
        ctx, person_actor(us, "api"), name="J2 targets", ceiling=_l(ctx, "TOP SECRET//NOFORN")
    )
    page = await audit_service.list_audit(
        ctx, person_actor(officer, "api"), AuditQuery(action="net.create"), None, 10
    )
    above = [
        r
        for r in page.items
        if r.entry.label is not None
        and not may_read(officer.subject(), _l(ctx, r.entry.label["marking"]))
    ]
    assert not above
