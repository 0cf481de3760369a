"""The audit log is label-filtered: a reader sees what they may read, and a stub of the rest."""

from __future__ import annotations

import json

import httpx
import pytest

from kyodo.errors import GuardRefused, InvalidInput
from kyodo.labels import parse_marking
from kyodo.services import audit, messages, nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.services.ports import AuditQuery

from tests.support.factories import add_person, bearer

SECRET_NAME = "統合作戦計画室"
FRAGMENT = "秘//日本限り"
TEXT = f"{FRAGMENT} 第1師団は明朝移動する"


async def _japan_only_history(ctx: ServiceContext, operator: Actor) -> dict[str, Actor]:
    """A Japan-only net created, and a Japan-only text refused by the guard in a shared net."""
    jp = person_actor(
        await add_person(ctx, operator, "jp", nation="JPN", clearance="GOKUHI"), "api"
    )
    people = {
        name: person_actor(await add_person(ctx, operator, name, **kw), "api")
        for name, kw in {
            "us.officer": {"clearance": "TOP SECRET", "roles": ("security_officer",)},
            "jp.officer": {
                "nation": "JPN",
                "clearance": "KIMITSU",
                "roles": ("security_officer",),
            },
        }.items()
    }
    await nets.create_net(ctx, jp, name=SECRET_NAME, ceiling=parse_marking(FRAGMENT, ctx.registry))
    shared = await nets.create_net(
        ctx,
        jp,
        name="shared",
        ceiling=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
        entry=parse_marking("UNCLASSIFIED", ctx.registry),
    )
    with pytest.raises(GuardRefused):
        await messages.post_message(
            ctx, jp, shared.id, TEXT, label=parse_marking("UNCLASSIFIED", ctx.registry)
        )
    return {"jp": jp, **people}


def _everything(records: object) -> str:
    return json.dumps([r.as_dict() for r in records], ensure_ascii=False)  # type: ignore[attr-defined]


async def test_a_reader_gets_stubs_of_records_above_them(
    ctx: ServiceContext, operator: Actor
) -> None:
    who = await _japan_only_history(ctx, operator)
    full = (await audit.list_audit(ctx, operator, AuditQuery(), None, 200)).items
    us = (await audit.list_audit(ctx, who["us.officer"], AuditQuery(), None, 200)).items
    jp = (await audit.list_audit(ctx, who["jp.officer"], AuditQuery(), None, 200)).items
    # The operator and the Japanese officer read everything; the US officer none of it.
    assert FRAGMENT in _everything(full) and SECRET_NAME in _everything(full)
    assert FRAGMENT in _everything(jp) and SECRET_NAME in _everything(jp)
    shown = _everything(us)
    assert FRAGMENT not in shown and SECRET_NAME not in shown and "日本限り" not in shown
    # ...but the sequence is whole: a stub in place of each record, with its hashes.
    assert [r.seq for r in us[: len(full)]] == [r.seq for r in full]
    stubs = {r.entry.action: r for r in us if r.redacted}
    assert {"net.create", "message.guard_refused"} <= set(stubs)
    for stub in stubs.values():
        original = next(r for r in full if r.seq == stub.seq)
        assert stub.as_dict() == {
            "seq": original.seq,
            "time": original.time,
            "actor": "jp",
            "action": original.entry.action,
            "object_type": original.entry.object_type,
            "prev_hash": original.prev_hash,
            "hash": original.hash,
            "redacted": True,
        }
    refusal = next(r for r in full if r.entry.action == "message.guard_refused")
    assert refusal.entry.label is not None and "日本限り" in refusal.entry.label["marking"]


async def test_filters_on_hidden_fields_are_no_oracle(ctx: ServiceContext, operator: Actor) -> None:
    """Filtering by the object of a record the reader may not read must answer exactly as for
    an object that does not exist: no stub, no cursor."""
    who = await _japan_only_history(ctx, operator)
    full = (await audit.list_audit(ctx, operator, AuditQuery(), None, 200)).items
    hidden = next(
        r
        for r in full
        if r.entry.action == "net.create"
        and r.entry.label
        and "日本限り" in r.entry.label["marking"]
    )
    us = who["us.officer"]
    for limit in (1, 100):
        probe = await audit.list_audit(
            ctx, us, AuditQuery(object_id=hidden.entry.object_id), None, limit
        )
        nothing = await audit.list_audit(ctx, us, AuditQuery(object_id="no-such-net"), None, limit)
        assert (
            (probe.items, probe.next_cursor) == (nothing.items, nothing.next_cursor) == ([], None)
        )
        combined = AuditQuery(action="net.create", object_id=hidden.entry.object_id)
        assert (await audit.list_audit(ctx, us, combined, None, limit)).items == []
    # A filter on what a stub shows (actor, action) still lists the stubs.
    by_action = await audit.list_audit(ctx, us, AuditQuery(action="net.create"), None, 100)
    assert any(r.redacted for r in by_action.items)
    # The Japanese officer finds it.
    found = await audit.list_audit(
        ctx, who["jp.officer"], AuditQuery(object_id=hidden.entry.object_id), None, 1
    )
    assert [r.seq for r in found.items] == [hidden.seq]


async def test_pages_with_left_out_records_stay_whole(ctx: ServiceContext, operator: Actor) -> None:
    """Records left out of a page (hidden filter) never shorten the walk or end it early."""
    who = await _japan_only_history(ctx, operator)
    query = AuditQuery(object_type="net")
    seen: list[int] = []
    cursor = None
    while True:
        page = await audit.list_audit(ctx, who["us.officer"], query, cursor, 1)
        seen += [r.seq for r in page.items]
        if page.next_cursor is None:
            break
        cursor = int(page.next_cursor)
    everything = await audit.list_audit(ctx, operator, query, None, 200)
    assert seen == [r.seq for r in everything.items]


@pytest.mark.parametrize("field", ["since", "until"])
async def test_a_time_that_is_not_one_is_refused(
    ctx: ServiceContext, operator: Actor, field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        await audit.list_audit(ctx, operator, AuditQuery(**{field: "not-a-date"}))


async def test_times_are_compared_as_times(ctx: ServiceContext, operator: Actor) -> None:
    await add_person(ctx, operator, "alice")
    every = await audit.list_audit(ctx, operator, AuditQuery(since="2000-01-01"))
    assert every.items
    # The same moment written with a zone: still every record, none from the future.
    zoned = await audit.list_audit(ctx, operator, AuditQuery(since="2000-01-01T09:00:00+09:00"))
    assert [r.seq for r in zoned.items] == [r.seq for r in every.items]
    assert (await audit.list_audit(ctx, operator, AuditQuery(until="2000-01-01"))).items == []


async def test_the_api_redacts_and_refuses_bad_times(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await _japan_only_history(ctx, operator)
    officer = await bearer(client, "us.officer")
    page = await client.get("/api/v1/audit", headers=officer, params={"limit": 200})
    assert page.status_code == 200
    assert FRAGMENT not in page.text and SECRET_NAME not in page.text
    stubs = [i for i in page.json()["items"] if i["redacted"]]
    assert stubs and all(
        i["object_id"] is None and i["details"] == {} and i["label"] is None for i in stubs
    )
    for field in ("since", "until"):
        bad = await client.get("/api/v1/audit", headers=officer, params={field: "not-a-date"})
        assert bad.status_code == 422, bad.text
        assert field in bad.json()["detail"] and "ISO 8601" in bad.json()["detail"]
