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
    assert len(us_texts) == 4 and len(jp_texts) == 3  # the NOFORN message reaches US staff only
    assert not any("US-only" in text for text in jp_texts)
