"""Label parse/render and the audit log over HTTP."""

from __future__ import annotations

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, bearer


async def test_parse_and_render_wrap_the_label_core(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "alice")
    headers = await bearer(client, "alice")
    parsed = await client.post(
        "/api/v1/labels/parse", headers=headers, json={"marking": "(s//rel to jpn, usa)"}
    )
    assert parsed.status_code == 200
    assert parsed.json()["marking"] == "SECRET//REL TO USA, JPN"
    assert parsed.json()["releasable_to"] == ["USA", "JPN"]
    rendered = await client.post(
        "/api/v1/labels/render", headers=headers, json={"label": parsed.json(), "scheme": "JPN"}
    )
    assert rendered.status_code == 200
    assert rendered.json()["marking"] == "極秘//REL TO USA, JPN"
    assert "USA label" in rendered.json()["note"]
    bad = await client.post(
        "/api/v1/labels/parse", headers=headers, json={"marking": "SECRET//REL TO USA, XYZ"}
    )
    assert bad.status_code == 422 and "position 20" in bad.json()["detail"]
    none = await client.post(
        "/api/v1/labels/render",
        headers=headers,
        json={"label": "TOP SECRET//SI//NOFORN", "scheme": "JPN"},
    )
    assert none.status_code == 422 and none.json()["code"] == "no_equivalent"


async def test_audit_is_for_security_officers_and_filters(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    await add_person(ctx, operator, "officer", roles=("security_officer",))
    await add_person(ctx, operator, "alice")
    member = await bearer(client, "alice")
    officer = await bearer(client, "officer")
    refused = await client.get("/api/v1/audit", headers=member)
    assert refused.status_code == 403
    logins = await client.get(
        "/api/v1/audit", headers=officer, params={"action": "auth.login", "actor": "alice"}
    )
    assert logins.status_code == 200
    items = logins.json()["items"]
    assert items and {(i["action"], i["actor"]) for i in items} == {("auth.login", "alice")}
    denied = await client.get("/api/v1/audit", headers=officer, params={"action": "audit.read"})
    assert denied.json()["items"][-1]["decision"] == "deny"
    page = await client.get("/api/v1/audit", headers=officer, params={"limit": 2})
    assert page.json()["next_cursor"] is not None
    rest = await client.get(
        "/api/v1/audit", headers=officer, params={"cursor": page.json()["next_cursor"]}
    )
    assert rest.json()["items"][0]["seq"] == page.json()["items"][-1]["seq"] + 1
