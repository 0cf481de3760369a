"""Actions end to end over HTTP: created, read per reader (withheld fields marked, the banner
the join of what one may see), hidden actions answer like missing ones, refusals with reasons,
a bilateral facility access request signed by both nations, and the OpenAPI document."""

from __future__ import annotations

import httpx

from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_org, add_person, bearer

REL = "SECRET//REL TO USA, JPN"


async def _people(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> dict[str, dict[str, str]]:
    await add_org(ctx, operator, "usfj", nation="USA")
    await add_org(ctx, operator, "jjoc", nation="JPN")
    await add_org(ctx, operator, "jso", nation="JPN")
    await add_org(ctx, operator, "other", nation="USA")
    people = {
        "us.ao": ("usfj", "USA", "TOP SECRET", ("SI",)),
        "jp.staff": ("jjoc", "JPN", "GOKUHI", ()),
        "jp.office": ("jso", "JPN", "GOKUHI", ()),
        "outsider": ("other", "USA", "TOP SECRET", ("SI",)),
    }
    for name, (org, nation, clearance, grants) in people.items():
        await add_person(
            ctx, operator, name, nation=nation, clearance=clearance, grants=grants, org_id=org
        )
    return {name: await bearer(client, name) for name in people}


FACILITY = {
    "kind": "facility_access",
    "label": REL,
    "owner_org": "usfj",
    "opr_org": "jjoc",
    "ocr_orgs": ["jso"],
    "bilateral": True,
    "priority": "priority",
    "title": {"value": "Ishigaki access, exercise RESOLUTE DRAGON"},
    "fields": {
        "facility": {"value": "JGSDF Camp Ishigaki"},
        "legal_basis": {"value": "SOFA II-4(b)"},
        "suspense": {"value": "2026-12-01T00:00:00Z"},
        "vehicles_weapon_systems": {"value": ["HIMARS"], "label": "SECRET//NOFORN"},
        "activities": {"value": "live fire", "label": "TOP SECRET//SI//REL TO USA, JPN"},
        "jc_reference": {"value": "JC-2026-118"},
    },
}


async def test_create_read_and_withheld_fields(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    created = await client.post("/api/v1/actions", headers=h["us.ao"], json=FACILITY)
    assert created.status_code == 201, created.text
    body = created.json()["action"]
    action_id = body["id"]
    assert body["state"] == "DRAFT" and body["mutual_consent"] is True  # a JC item
    assert body["fields"]["vehicles_weapon_systems"]["value"] == ["HIMARS"]
    assert body["banner"]["marking"].startswith("TOP SECRET//SI")
    assert body["overdue"] is True
    # The JSDF staff: the NOFORN field is withheld with its marking, the SI one just withheld.
    seen = (await client.get(f"/api/v1/actions/{action_id}", headers=h["jp.staff"])).json()
    fields = seen["action"]["fields"]
    assert fields["vehicles_weapon_systems"] == {
        "value": None,
        "label": fields["vehicles_weapon_systems"]["label"],
        "withheld": True,
        "marker": "withheld: SECRET//NOFORN",
    }
    assert fields["activities"] == {
        "value": None,
        "label": None,
        "withheld": True,
        "marker": "withheld",
    }
    assert "HIMARS" not in json_text(seen) and "live fire" not in json_text(seen)
    assert seen["action"]["banner"]["marking"] == REL
    assert seen["banner"]["marking"] == REL
    listed = await client.get(
        "/api/v1/actions",
        headers=h["jp.staff"],
        params={"field": 'vehicles_weapon_systems=["HIMARS"]'},
    )
    assert listed.status_code == 200 and listed.json()["total"] == 0
    mine = (await client.get("/api/v1/actions", headers=h["us.ao"], params={"mine": True})).json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == action_id
    # An outsider: the action does not exist, byte for byte like a missing one.
    hidden = await client.get(f"/api/v1/actions/{action_id}", headers=h["outsider"])
    missing = await client.get("/api/v1/actions/" + "0" * 32, headers=h["outsider"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(action_id, "X") == missing.json()["detail"].replace(
        "0" * 32, "X"
    )
    assert (await client.get("/api/v1/actions", headers=h["outsider"])).json()["total"] == 0


def json_text(value: object) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


async def test_a_bilateral_facility_request_through_approval(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    body = {**FACILITY, "fields": {"facility": {"value": "Camp Ishigaki"}}}
    action_id = (await client.post("/api/v1/actions", headers=h["us.ao"], json=body)).json()[
        "action"
    ]["id"]
    url = f"/api/v1/actions/{action_id}"

    async def step(who: str, name: str) -> httpx.Response:
        return await client.post(f"{url}/transitions", headers=h[who], json={"step": name})

    assert (await step("jp.staff", "staff_us")).status_code == 403
    wrong = await step("us.ao", "approve")
    assert wrong.status_code == 409 and "no step" in wrong.json()["detail"]
    for who, name in (
        ("us.ao", "staff_us"),
        ("us.ao", "submit_bilateral"),
        ("jp.staff", "staff_jp"),
    ):
        answer = await step(who, name)
        assert answer.status_code == 200, answer.text
    comment = await client.post(
        f"{url}/comments",
        headers=h["jp.office"],
        json={
            "type": "critical",
            "location": "para 2",
            "text": "fishing season",
            "rationale": "local",
        },
    )
    assert comment.status_code == 201, comment.text
    comment_id = comment.json()["comments"][0]["id"]
    nc = await client.post(
        f"{url}/concurrences",
        headers=h["jp.office"],
        json={"answer": "non_concur", "comment_id": comment_id},
    )
    assert nc.status_code == 200 and nc.json()["concurrences"][0]["blocking"] is True
    blocked = await step("jp.staff", "local_coordination")
    assert blocked.status_code == 403
    assert "the non-concurrence of jso is open" in blocked.json()["reasons"]
    waiting = await client.get(
        "/api/v1/actions", headers=h["jp.staff"], params={"waiting_on_me": True}
    )
    assert waiting.json()["total"] == 1
    decided = await client.post(
        f"{url}/comments/{comment_id}/decision",
        headers=h["jp.staff"],
        json={"decision": "rejected", "reason": "season ends before the dates"},
    )
    assert decided.status_code == 200, decided.text
    up = await client.post(
        f"{url}/escalations",
        headers=h["jp.staff"],
        json={"org_id": "jso", "reason": "to bilateral ops"},
    )
    assert up.json()["concurrences"][0]["level"] == "bilateral_ops"
    assert (await step("jp.staff", "local_coordination")).status_code == 200
    refused = await step("jp.staff", "approve")
    assert refused.status_code == 403
    assert set(refused.json()["reasons"]) == {
        "an approver of JPN has not signed",
        "an approver of USA has not signed",
    }
    assert (await client.post(f"{url}/signatures", headers=h["us.ao"])).status_code == 201
    assert (await client.post(f"{url}/signatures", headers=h["us.ao"])).status_code == 409
    assert (await client.post(f"{url}/signatures", headers=h["jp.staff"])).status_code == 201
    approved = await step("jp.staff", "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["action"]["state"] == "APPROVED"
    assert [t["step"] for t in approved.json()["transitions"]][-1] == "approve"


async def test_bad_input_is_a_clear_4xx(
    ctx: ServiceContext, operator: Actor, client: httpx.AsyncClient
) -> None:
    h = await _people(ctx, operator, client)
    bad = {**FACILITY, "fields": {"capability": {"value": "x"}}}
    answer = await client.post("/api/v1/actions", headers=h["us.ao"], json=bad)
    assert answer.status_code == 422 and "no field capability" in answer.json()["detail"]
    answer = await client.post(
        "/api/v1/actions", headers=h["us.ao"], json={**FACILITY, "kind": "memo"}
    )
    assert answer.status_code == 422
    answer = await client.get("/api/v1/actions", headers=h["us.ao"], params={"sort": "secret"})
    assert answer.status_code == 422 and "sort must be" in answer.json()["detail"]
    answer = await client.post("/api/v1/actions", headers=h["jp.staff"], json=FACILITY)
    assert answer.status_code == 403 and answer.json()["reasons"]


async def test_the_openapi_document_shows_actions(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/actions",
        "/api/v1/actions/{action_id}",
        "/api/v1/actions/{action_id}/transitions",
        "/api/v1/actions/{action_id}/comments",
        "/api/v1/actions/{action_id}/comments/{comment_id}/decision",
        "/api/v1/actions/{action_id}/concurrences",
        "/api/v1/actions/{action_id}/escalations",
        "/api/v1/actions/{action_id}/signatures",
    ):
        assert path in paths
