"""The demo data: public-source organisations with sources, and the documented demo people."""

from __future__ import annotations

import httpx

from kyodo.demo.loader import load_demo, personas, seed
from kyodo.services import identity
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext


async def test_demo_loads_once_and_logins_work(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    logins = await load_demo(ctx, operator)
    again = await load_demo(ctx, operator)  # idempotent
    assert [x.username for x in logins] == [x.username for x in again]
    orgs = await identity.list_orgs(ctx, operator, None, 200)
    assert len(orgs.items) == len(seed()["organizations"])
    by_id = {o.id: o for o in orgs.items}
    assert by_id["usfj"].counterpart_id == "jjoc" and by_id["jjoc"].counterpart_id == "usfj"
    assert by_id["jjoc"].name_ja == "統合作戦司令部"
    assert all(o.sources for o in orgs.items), "every organisation keeps its sources"
    nations = {x.nation for x in logins}
    assert {"USA", "JPN", "AUS"} <= nations
    assert any(x.clearance == "UNCLASSIFIED" for x in logins), "an uncleared outsider"
    password = personas()["password"]
    for username in ("jp.j3", "journalist", "liaison.aus"):
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, username


def test_every_source_id_in_the_seed_resolves() -> None:
    data = seed()
    for org in data["organizations"]:
        for source in org["source"]:
            assert source in data["sources"], (org["id"], source)
    for base in data["bases"]:
        for source in base.get("source", []):
            assert source in data["sources"], (base["id"], source)


async def test_demo_picture_has_tracks_of_both_nations_filtered_per_reader(
    ctx: ServiceContext, operator: Actor
) -> None:
    from kyodo.services import tracks
    from kyodo.services.actor import person_actor

    await load_demo(ctx, operator)
    await load_demo(ctx, operator)  # idempotent: tracks are updated, not duplicated
    everything = await tracks.list_tracks(ctx, operator)
    assert len(everything) == 9
    assert {t.label.policy for t in everything} == {"USA", "JPN"}
    us = person_actor(await identity.find_person(ctx, "us.j3"), "api")
    jp = person_actor(await identity.find_person(ctx, "jp.j3"), "api")
    journalist = person_actor(await identity.find_person(ctx, "journalist"), "api")
    us_uids = {t.uid for t in await tracks.list_tracks(ctx, us)}
    jp_uids = {t.uid for t in await tracks.list_tracks(ctx, jp)}
    assert "demo.lcc19" in us_uids and "demo.lcc19" not in jp_uids  # NOFORN
    assert "demo.amami" in jp_uids and "demo.amami" not in us_uids  # 日本限り
    assert await tracks.list_tracks(ctx, journalist) == []
    yokosuka = next(t for t in everything if t.uid == "demo.cvn73")
    assert (yokosuka.position.lat, yokosuka.position.lon) == (35.2932, 139.671293)
    assert "Sources:" in yokosuka.remarks


async def test_demo_nets_are_vetted_and_filtered_per_reader(
    ctx: ServiceContext, operator: Actor
) -> None:
    from kyodo.services import messages, nets
    from kyodo.services.actor import person_actor

    await load_demo(ctx, operator)
    await load_demo(ctx, operator)  # idempotent: nets are not made twice

    async def actor(username: str) -> Actor:
        return person_actor(await identity.find_person(ctx, username), "api")

    us, jp, aus = await actor("us.j3"), await actor("jp.j3"), await actor("liaison.aus")
    assert sorted(n.name for n in await nets.list_my_nets(ctx, us)) == [
        "HQ Staff Admin",
        "J3 Combined Operations",
    ]
    assert [n.name for n in await nets.list_my_nets(ctx, aus)] == ["HQ Staff Admin"]
    combined = next(n for n in await nets.list_my_nets(ctx, us) if n.name.startswith("J3"))
    us_texts = [m.message.text for m in await messages.list_messages(ctx, us, combined.id)]
    jp_texts = [m.message.text for m in await messages.list_messages(ctx, jp, combined.id)]
    # The staff traffic (the NOFORN message reaches US staff only) and the notices of the demo
    # actions owned by this net, which both nations read.
    staff = [t for t in us_texts if "/api/v1/actions/" not in t]
    notices = [t for t in us_texts if "/api/v1/actions/" in t]
    assert len(staff) == 4 and notices
    assert len(jp_texts) == 3 + len(notices)
    assert not any("US-only" in text for text in jp_texts)


async def test_demo_actions_show_each_situation(ctx: ServiceContext, operator: Actor) -> None:
    from kyodo.services import actions
    from kyodo.services.actor import person_actor

    await load_demo(ctx, operator)
    await load_demo(ctx, operator)  # idempotent: the actions are loaded once
    jp = person_actor(await identity.find_person(ctx, "jp.j3"), "session")
    page = await actions.list_actions(ctx, jp, actions.ActionQuery())
    by_kind = {s.kind.value: s for s in page.items}
    assert set(by_kind) == {"facility_access", "rfi", "tasker"}  # not a party to the liaison
    assert by_kind["facility_access"].state == "JP_STAFFED"
    assert by_kind["facility_access"].fields["vehicles_weapon_systems"].withheld  # NOFORN
    assert by_kind["facility_access"].mutual_consent
    assert by_kind["tasker"].overdue is True and page.items[0].overdue  # overdue first
    tasker = await actions.get_action(ctx, jp, by_kind["tasker"].id)
    assert [c.blocking for c in tasker.concurrences] == [True]
    liaison = await actions.get_action(
        ctx,
        person_actor(await identity.find_person(ctx, "jp.sf"), "session"),
        next(
            s.id
            for s in (await actions.list_actions(ctx, operator, actions.ActionQuery())).items
            if s.kind.value == "liaison_request"
        ),
    )
    assert [s.nation for s in liaison.signatures] == ["USA"]  # half signed
    journalist = person_actor(await identity.find_person(ctx, "journalist"), "session")
    assert (await actions.list_actions(ctx, journalist, actions.ActionQuery())).total == 0
