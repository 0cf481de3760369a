"""The attack review's findings on nets, messages, people and the guard, each tried again."""

from __future__ import annotations

import json

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer, login

MIXED = {
    "name": "J3 combined ops",
    "ceiling": "SECRET//NOFORN",
    "entry": "SECRET//REL TO USA, JPN",
    "default_label": "SECRET//REL TO USA, JPN",
}
NOFORN = {"marking": "SECRET//NOFORN"}
REL = {"marking": "SECRET//REL TO USA, JPN"}
Headers = dict[str, str]


async def _people(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> dict[str, Headers]:
    await add_person(ctx, operator, "us.j3", clearance="TOP SECRET", grants=("SI", "TK"))
    await add_person(
        ctx, operator, "us.chief", clearance="TOP SECRET", roles=("member", "may_downgrade")
    )
    await add_person(ctx, operator, "jp.sato", nation="JPN", clearance="GOKUHI")
    await add_person(ctx, operator, "journalist", clearance="UNCLASSIFIED")
    await add_person(ctx, operator, "aus.liaison", nation="AUS", clearance="SECRET")
    await add_person(
        ctx, operator, "records", nation="JPN", clearance="GOKUHI", roles=("records_officer",)
    )
    await add_person(ctx, operator, "admin", clearance="TOP SECRET", roles=("admin",))
    await add_person(ctx, operator, "admin2", clearance="TOP SECRET", roles=("admin",))
    await add_person(ctx, operator, "secoff", clearance="TOP SECRET", roles=("security_officer",))
    await add_person(
        ctx, operator, "us.hidden", clearance="SECRET", label=_label(ctx, "SECRET//NOFORN")
    )
    names = ("us.j3", "us.chief", "jp.sato", "journalist", "aus.liaison", "records", "admin")
    return {name: await bearer(client, name) for name in (*names, "admin2", "secoff")}


def _label(ctx: ServiceContext, marking: str) -> object:
    from kyodo.labels import parse_marking

    return parse_marking(marking, ctx.registry)


async def _id(client: httpx.AsyncClient, h: Headers) -> str:
    return str((await client.get("/api/v1/me", headers=h)).json()["id"])


async def _person_id(ctx: ServiceContext, username: str) -> str:
    async with ctx.db.transaction(write=False) as tx:
        return (await tx.people.get_by_username(username)).id


async def _net(
    client: httpx.AsyncClient, h: dict[str, Headers], spec: dict[str, str], *members: str
) -> str:
    created = await client.post("/api/v1/nets", headers=h["us.j3"], json=spec)
    assert created.status_code == 201, created.text
    net_id = str(created.json()["id"])
    for name in members:
        person = await _id(client, h[name])
        added = await client.post(
            f"/api/v1/nets/{net_id}/members", headers=h["us.j3"], json={"person_id": person}
        )
        assert added.status_code == 201, added.text
    return net_id


async def _post(
    client: httpx.AsyncClient, h: Headers, net_id: str, text: str, **body: object
) -> int:
    posted = await client.post(
        f"/api/v1/nets/{net_id}/messages", headers=h, json={"text": text, **body}
    )
    assert posted.status_code == 201, posted.text
    return int(posted.json()["message"]["seq"])


async def _denials(ctx: ServiceContext, action: str) -> int:
    async with ctx.db.transaction(write=False) as tx:
        return len(
            [
                r
                async for r in tx.audit.walk()
                if r.entry.action == action and r.entry.decision == "deny"
            ]
        )


# 1 ------------------------------------------------------------------------------------------


async def test_the_export_holds_no_version_the_records_officer_may_not_read(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato", "records", "us.chief")
    seq = await _post(
        client, h["us.j3"], net_id, "Blue Ridge sails 0600 to grid 123.", label=NOFORN
    )
    # The author may no longer lower it by edit; the downgrade is its own action.
    lowered = await client.post(
        f"/api/v1/messages/{seq}/downgrade",
        headers=h["us.chief"],
        json={"label": REL, "justification": "Releasable after J3 review, ref 25-117."},
    )
    assert lowered.status_code == 200, lowered.text
    export = await client.get(f"/api/v1/nets/{net_id}/export", headers=h["records"])
    assert export.status_code == 200
    assert "NOFORN" not in export.text and "grid 123" in export.text
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines[0]["marking"] == "SECRET//REL TO USA, JPN"
    (message,) = [line for line in lines if line["type"] == "message"]
    assert [v["version"] for v in message["versions"]] == [2]


# 3 ------------------------------------------------------------------------------------------


async def test_hidden_and_absent_messages_and_replies_get_the_same_answer(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato")
    secret = await _post(client, h["us.j3"], net_id, "Noforn note.", label=NOFORN)
    shared = await _post(client, h["us.j3"], net_id, "Shared note.")
    other_net = await _net(client, h, {"name": "Other", "ceiling": "SECRET//REL TO USA, JPN"})
    elsewhere = await _post(client, h["us.j3"], other_net, "In another net.")
    absent = 10_000_000
    for name in ("journalist", "jp.sato", "aus.liaison"):
        for seq in (secret, shared, elsewhere):
            if (await client.get(f"/api/v1/messages/{seq}", headers=h[name])).status_code == 200:
                continue  # jp.sato reads the shared note
            for suffix in ("", "/versions"):
                hidden = await client.get(f"/api/v1/messages/{seq}{suffix}", headers=h[name])
                missing = await client.get(f"/api/v1/messages/{absent}{suffix}", headers=h[name])
                assert hidden.status_code == missing.status_code == 404, (name, seq)
                assert hidden.content == missing.content.replace(
                    str(absent).encode(), str(seq).encode()
                ), (name, seq, hidden.text)
                assert net_id.encode() not in hidden.content
                assert other_net.encode() not in hidden.content
    # Replies: absent, in another net, unreadable — one answer.
    answers = set()
    for target in (absent, elsewhere, secret):
        reply = await client.post(
            f"/api/v1/nets/{net_id}/messages",
            headers=h["jp.sato"],
            json={"text": "Roger.", "reply_to": target},
        )
        assert reply.status_code == 422
        answers.add(reply.content.replace(str(target).encode(), b"N"))
    assert len(answers) == 1


# 4 ------------------------------------------------------------------------------------------


async def test_overseers_do_not_see_nets_above_their_clearance(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, {"name": "SI cell", "ceiling": "TOP SECRET//SI/TK//NOFORN"})
    for name in ("admin", "secoff", "records"):
        for path in ("", "/members", "/messages", "/export"):
            seen = await client.get(f"/api/v1/nets/{net_id}{path}", headers=h[name])
            assert seen.status_code == 404, (name, path, seen.text)
            assert b"SI cell" not in seen.content
    # An admin cannot add themselves or change the net either.
    admin = await _id(client, h["admin"])
    joined = await client.post(
        f"/api/v1/nets/{net_id}/members", headers=h["admin"], json={"person_id": admin}
    )
    assert joined.status_code == 404


# 5 ------------------------------------------------------------------------------------------


async def test_guard_check_names_only_people_the_caller_may_read(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    created = await client.post(
        "/api/v1/nets",
        headers=h["us.j3"],
        json={"name": "Liaison", "ceiling": "SECRET//REL TO USA, AUS, JPN"},
    )
    net_id = created.json()["id"]
    for person in ("aus.liaison", "us.hidden"):
        await client.post(
            f"/api/v1/nets/{net_id}/members",
            headers=h["us.j3"],
            json={"person_id": await _person_id(ctx, person)},
        )
    checked = await client.post(
        "/api/v1/guard/check",
        headers=h["aus.liaison"],
        json={"text": "Lunch at 1200.", "label": {"marking": "UNCLASSIFIED"}, "net_id": net_id},
    )
    assert checked.status_code == 200, checked.text
    names = {r["username"] for r in checked.json()["recipients"]}
    assert "us.hidden" not in names and "aus.liaison" in names
    assert checked.json()["recipients_by_nation"].get("USA") == 1  # us.j3 only


# 7 ------------------------------------------------------------------------------------------


async def test_admins_cannot_grant_themselves_or_compartments_they_do_not_hold(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    admin = await _id(client, h["admin"])
    before = await _denials(ctx, "person.update")
    for change in (
        {"grants": ["SI", "TK"]},
        {"clearance": "TOP SECRET", "roles": ["admin", "security_officer"]},
    ):
        refused = await client.patch(f"/api/v1/people/{admin}", headers=h["admin"], json=change)
        assert refused.status_code == 403, refused.text
    other = await _person_id(ctx, "us.chief")
    refused = await client.patch(
        f"/api/v1/people/{other}", headers=h["admin"], json={"grants": ["SI"]}
    )
    assert refused.status_code == 403 and "holds it" in refused.text
    assert await _denials(ctx, "person.update") == before + 3
    # A security officer may grant a compartment (when also an admin): here the operator.
    me = (await client.get("/api/v1/me", headers=h["admin"])).json()
    assert me["grants"] == []


# 8 ------------------------------------------------------------------------------------------


async def test_no_edit_lowers_a_label_and_a_downgrade_is_audited(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato", "us.chief")
    original = await _post(client, h["us.j3"], net_id, "Strike package at 2100.", label=NOFORN)
    reply = await _post(client, h["us.chief"], net_id, "Roger, tankers ready.", reply_to=original)
    got = await client.get(f"/api/v1/messages/{reply}", headers=h["us.chief"])
    assert got.json()["label"]["marking"] == "SECRET//NOFORN"  # rolled up
    # Editing the reply back to REL TO USA, JPN keeps the roll-up.
    edited = await client.put(
        f"/api/v1/messages/{reply}",
        headers=h["us.chief"],
        json={"text": "Roger, tankers ready.", "label": REL},
    )
    assert edited.status_code == 200 and edited.json()["label"]["marking"] == "SECRET//NOFORN"
    # The author cannot lower their own message by edit, same text or not.
    lowered = await client.put(
        f"/api/v1/messages/{original}",
        headers=h["us.j3"],
        json={"text": "Strike package at 2100.", "label": REL},
    )
    assert lowered.status_code == 403, lowered.text
    assert (
        await client.get(f"/api/v1/messages/{original}", headers=h["jp.sato"])
    ).status_code == 404
    # A downgrade needs the role and a justification.
    for who, justification in (("us.j3", "Releasable now, J3 decision."), ("us.chief", "ok")):
        refused = await client.post(
            f"/api/v1/messages/{original}/downgrade",
            headers=h[who],
            json={"label": REL, "justification": justification},
        )
        assert refused.status_code in (403, 422), refused.text
    done = await client.post(
        f"/api/v1/messages/{original}/downgrade",
        headers=h["us.chief"],
        json={"label": REL, "justification": "Released to JJOC after J3 review."},
    )
    assert done.status_code == 200, done.text
    assert (
        await client.get(f"/api/v1/messages/{original}", headers=h["jp.sato"])
    ).status_code == 200
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk() if r.entry.action == "message.downgrade"]
    allowed = [r for r in records if r.entry.decision == "allow"]
    assert len(allowed) == 1 and allowed[0].entry.details["label_change"] == [
        "SECRET//NOFORN",
        "SECRET//REL TO USA, JPN",
    ]
    assert len(records) >= 2  # the refusals too
    # The earlier version keeps its label and stays hidden from the Japanese reader.
    versions = await client.get(f"/api/v1/messages/{original}/versions", headers=h["us.j3"])
    assert [v["label"]["marking"] for v in versions.json()] == [
        "SECRET//NOFORN",
        "SECRET//REL TO USA, JPN",
    ]


# 13 -----------------------------------------------------------------------------------------


async def test_the_read_marker_reveals_no_traffic_the_reader_cannot_see(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato")
    shared = await _post(client, h["us.j3"], net_id, "Shared.")
    for n in range(3):
        await _post(client, h["us.j3"], net_id, f"Noforn {n}.", label=NOFORN)
    marked = await client.put(
        f"/api/v1/nets/{net_id}/read", headers=h["jp.sato"], json={"seq": 2**31 - 1}
    )
    assert marked.status_code == 200 and marked.json()["last_read"] == shared


# 16 -----------------------------------------------------------------------------------------


async def test_refusals_are_audited(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato")
    records = await _person_id(ctx, "records")
    await client.post(
        f"/api/v1/nets/{net_id}/members",
        headers=h["us.j3"],
        json={"person_id": records, "role": "read_only"},
    )
    seq = await _post(client, h["us.j3"], net_id, "Mine.")
    cases = [
        (
            "message.post",
            client.post(
                f"/api/v1/nets/{net_id}/messages", headers=h["records"], json={"text": "x"}
            ),
        ),
        (
            "message.edit",
            client.put(f"/api/v1/messages/{seq}", headers=h["jp.sato"], json={"text": "x"}),
        ),
        ("message.delete", client.delete(f"/api/v1/messages/{seq}", headers=h["jp.sato"])),
        (
            "net.read",
            client.get(
                "/api/v1/search", headers=h["journalist"], params={"q": "Mine", "net_id": net_id}
            ),
        ),
        (
            "net.read",
            client.put(f"/api/v1/nets/{net_id}/read", headers=h["journalist"], json={"seq": 1}),
        ),
    ]
    for action, call in cases:
        before = await _denials(ctx, action)
        answer = await call
        assert answer.status_code in (403, 404), (action, answer.text)
        assert await _denials(ctx, action) == before + 1, action


# 20 -----------------------------------------------------------------------------------------


async def test_bidirectional_overrides_are_shown_as_what_they_are(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato")
    text = "Launch at \u202e0012\u202c and \u2066grid\u2069."
    seq = await _post(client, h["us.j3"], net_id, text)
    got = (await client.get(f"/api/v1/messages/{seq}", headers=h["jp.sato"])).json()
    assert got["text"] == text  # the record keeps what was written
    for ch in ("\u202e", "\u202c", "\u2066", "\u2069"):
        assert ch not in got["html"]
    assert "[U+202E]" in got["html"]


async def test_a_net_labelled_lower_than_its_entry_shows_overseers_its_name_only(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    spec = {"name": "SI cell", "ceiling": "TOP SECRET//SI/TK//NOFORN", "label": NOFORN}
    too_high = await client.post(
        "/api/v1/nets",
        headers=h["us.j3"],
        json={
            **spec,
            "entry": {"marking": "TOP SECRET//SI//NOFORN"},
            "label": {"marking": "TOP SECRET//TK//NOFORN"},  # not below the entry label
        },
    )
    assert too_high.status_code == 422
    created = await client.post("/api/v1/nets", headers=h["us.j3"], json=spec)
    assert created.status_code == 201, created.text
    net_id = created.json()["id"]
    assert created.json()["label"]["marking"] == "SECRET//NOFORN"
    # The US security officer (TOP SECRET, no SI/TK) sees the net's name and members ...
    seen = await client.get(f"/api/v1/nets/{net_id}", headers=h["secoff"])
    assert seen.status_code == 200 and seen.json()["name"] == "SI cell"
    members = await client.get(f"/api/v1/nets/{net_id}/members", headers=h["secoff"])
    assert members.status_code == 200
    # ... never its messages; the Japanese records officer sees nothing at all.
    assert (
        await client.get(f"/api/v1/nets/{net_id}/messages", headers=h["secoff"])
    ).status_code == 404
    assert (await client.get(f"/api/v1/nets/{net_id}", headers=h["records"])).status_code == 404
    # Not by seq either: the security officer reads SECRET//NOFORN, but is not a member.
    seq = await _post(client, h["us.j3"], net_id, "Cell note.", label=NOFORN)
    by_seq = await client.get(f"/api/v1/messages/{seq}", headers=h["secoff"])
    absent = await client.get("/api/v1/messages/99999999", headers=h["secoff"])
    assert by_seq.status_code == 404
    assert by_seq.content == absent.content.replace(b"99999999", str(seq).encode())


async def test_a_privileged_password_reset_needs_a_second_administrator(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    secoff = await _person_id(ctx, "secoff")
    new = {"password": "a brand new passphrase"}
    alone = await client.put(f"/api/v1/people/{secoff}/password", headers=h["admin"], json=new)
    assert alone.status_code == 403 and "second" in alone.text
    asked = await client.post(
        f"/api/v1/people/{secoff}/password-reset-requests", headers=h["admin"]
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["request_id"]
    # The one who asked cannot also perform it; an invented id approves nothing.
    own = await client.put(
        f"/api/v1/people/{secoff}/password",
        headers=h["admin"],
        json={**new, "approval": request_id},
    )
    assert own.status_code == 403
    forged = await client.put(
        f"/api/v1/people/{secoff}/password",
        headers=h["admin2"],
        json={**new, "approval": "0" * 32},
    )
    assert forged.status_code == 403
    done = await client.put(
        f"/api/v1/people/{secoff}/password",
        headers=h["admin2"],
        json={**new, "approval": request_id},
    )
    assert done.status_code == 204, done.text
    again = await client.put(
        f"/api/v1/people/{secoff}/password",
        headers=h["admin2"],
        json={"password": "yet another passphrase", "approval": request_id},
    )
    assert again.status_code == 403  # a request is used once
    # A plain member's password an administrator resets alone.
    member = await _person_id(ctx, "jp.sato")
    plain = await client.put(f"/api/v1/people/{member}/password", headers=h["admin"], json=new)
    assert plain.status_code == 204
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk() if r.entry.object_id == secoff]
    actions = [(r.entry.action, r.entry.decision) for r in records]
    assert ("person.password_reset_request", "allow") in actions
    assert actions.count(("person.password", "deny")) == 4
    assert actions.count(("person.password", "allow")) == 1


async def test_a_non_member_downgrader_cannot_lower_what_they_may_not_read_in_the_net(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    # A security officer oversees nets (sees their names and members, never their messages).
    await add_person(
        ctx,
        operator,
        "secoff.dg",
        clearance="TOP SECRET",
        roles=("security_officer", "may_downgrade"),
    )
    h["us.chief"] = await bearer(client, "secoff.dg")
    net_id = await _net(client, h, MIXED, "jp.sato")
    seq = await _post(client, h["us.j3"], net_id, "Tanker track moves north.", label=NOFORN)
    seen = await client.get(f"/api/v1/nets/{net_id}", headers=h["us.chief"])
    assert seen.status_code == 200  # an overseer: the net is visible, its messages are not
    tried = await client.post(
        f"/api/v1/messages/{seq}/downgrade",
        headers=h["us.chief"],
        json={"label": REL, "justification": "Released to JJOC after J3 review."},
    )
    absent = await client.post(
        "/api/v1/messages/99999999/downgrade",
        headers=h["us.chief"],
        json={"label": REL, "justification": "Released to JJOC after J3 review."},
    )
    # Answered as a message that does not exist; the label is unchanged and the try audited.
    assert tried.status_code == 404, tried.text
    assert tried.content == absent.content.replace(b"99999999", str(seq).encode())
    still = await client.get(f"/api/v1/messages/{seq}", headers=h["us.j3"])
    assert still.json()["label"]["marking"] == "SECRET//NOFORN"
    assert (await client.get(f"/api/v1/messages/{seq}", headers=h["jp.sato"])).status_code == 404
    async with ctx.db.transaction(write=False) as tx:
        denied = [
            r
            async for r in tx.audit.walk()
            if r.entry.action == "message.downgrade" and r.entry.decision == "deny"
        ]
    assert any(r.entry.object_id == str(seq) for r in denied)


async def test_a_password_reset_request_is_only_for_privileged_people_and_not_oneself(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    for target in ("us.j3", "admin"):  # an ordinary member; the asking administrator
        person = await _person_id(ctx, target)
        asked = await client.post(
            f"/api/v1/people/{person}/password-reset-requests", headers=h["admin"]
        )
        assert asked.status_code == 403, asked.text
    plain = await _person_id(ctx, "us.j3")
    async with ctx.db.transaction(write=False) as tx:
        records = [
            r.entry
            async for r in tx.audit.walk()
            if r.entry.action == "person.password_reset_request"
        ]
    assert [r.decision for r in records if r.object_id == plain] == ["deny"]
    # The privileged target still works (the two-person rule's own test covers the rest).
    secoff = await _person_id(ctx, "secoff")
    ok = await client.post(f"/api/v1/people/{secoff}/password-reset-requests", headers=h["admin"])
    assert ok.status_code == 201, ok.text


async def test_the_chat_page_never_names_a_member_the_reader_may_not_read(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    h["us.hidden"] = await bearer(client, "us.hidden")
    net_id = await _net(client, h, MIXED, "jp.sato", "us.hidden")
    hidden_id = await _person_id(ctx, "us.hidden")
    client.cookies.clear()
    await login(client, "jp.sato")
    page = await client.get(f"/nets/{net_id}")
    assert page.status_code == 200, page.text
    assert hidden_id not in page.text and "us.hidden" not in page.text
    assert "閲覧権限のないメンバー" in page.text  # counted, not named, in the reader's language


async def test_a_non_member_overseer_learns_nothing_from_a_guard_preview_of_a_net(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato")
    assert (await client.get(f"/api/v1/nets/{net_id}", headers=h["secoff"])).status_code == 200
    draft = {"text": "Tanker track moves north.", "label": NOFORN}
    tried = await client.post(
        "/api/v1/guard/check", headers=h["secoff"], json={**draft, "net_id": net_id}
    )
    absent = await client.post(
        "/api/v1/guard/check", headers=h["secoff"], json={**draft, "net_id": "no-such-net"}
    )
    assert tried.status_code == absent.status_code == 404
    assert tried.content == absent.content.replace(b"no-such-net", net_id.encode())
    member = await client.post(
        "/api/v1/guard/check", headers=h["jp.sato"], json={**draft, "net_id": net_id}
    )
    assert member.status_code == 200, member.text  # members still see who would receive it


async def test_raising_a_message_by_edit_raises_its_replies_down_the_thread(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    net_id = await _net(client, h, MIXED, "jp.sato", "us.chief")
    original = await _post(client, h["us.j3"], net_id, "Tankers at 2100.", label=REL)
    reply = await _post(client, h["jp.sato"], net_id, "Roger.", label=REL, reply_to=original)
    nested = await _post(client, h["us.chief"], net_id, "Copy.", label=REL, reply_to=reply)
    raised = await client.put(
        f"/api/v1/messages/{original}",
        headers=h["us.j3"],
        json={"text": "Tankers at 2100 over the strait.", "label": NOFORN},
    )
    assert raised.status_code == 200, raised.text
    for seq in (reply, nested):  # the thread follows its original; the text stays
        got = await client.get(f"/api/v1/messages/{seq}", headers=h["us.j3"])
        assert got.json()["label"]["marking"] == "SECRET//NOFORN"
        assert (
            await client.get(f"/api/v1/messages/{seq}", headers=h["jp.sato"])
        ).status_code == 404
    async with ctx.db.transaction(write=False) as tx:
        rollups = [r.entry async for r in tx.audit.walk() if r.entry.action == "message.rollup"]
    assert sorted(e.object_id for e in rollups) == sorted([str(reply), str(nested)])
    assert all(
        e.details["label_change"] == ["SECRET//REL TO USA, JPN", "SECRET//NOFORN"] for e in rollups
    )
