"""The login and home pages as served to each language (the HTML, without a browser)."""

from __future__ import annotations

import httpx
import pytest

from kyodo.labels import parse_marking
from kyodo.services import nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, login


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("ja", '共同 <span lang="en">Kyodo</span>'), ("en", 'Kyodo <span lang="ja">共同</span>')],
)
async def test_the_login_page_names_kyodo_once_in_each_form(
    client: httpx.AsyncClient, lang: str, heading: str
) -> None:
    client.cookies.set("kyodo_lang", lang)
    page = await client.get("/login")
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text
    assert "共同 共同" not in page.text


async def test_home_explains_a_multi_level_nets_ceiling_to_a_japanese_officer(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    """A bilateral net's NOFORN ceiling reads (極//REL TO USA) to a Japanese officer: the
    home page says why they are in a net whose ceiling they cannot read."""
    owner = await add_person(ctx, operator, "home.us", clearance="TOP SECRET")
    jp = await add_person(ctx, operator, "home.jp", nation="JPN", clearance="GOKUHI")
    net = await nets.create_net(
        ctx,
        person_actor(owner, "api"),
        name="Bilateral J3",
        ceiling=parse_marking("SECRET//NOFORN", ctx.registry),
        entry=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
    )
    await nets.add_member(ctx, person_actor(owner, "api"), net.id, jp.id)
    await login(client, "home.jp")
    page = await client.get("/")
    assert page.status_code == 200
    assert "Bilateral J3" in page.text
    assert "マルチレベル：各メンバーは閲覧できるものだけを見ます" in page.text
