"""A posted message's payload is already the JSON form of `MessageOut`: the post route returns it
without passing it through pydantic, so the two must not drift apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from kyodo.api.message_json import message_json
from kyodo.api.schemas import MessageOut, PostedOut
from kyodo.domain.nets import Message
from kyodo.labels.marking import parse_marking
from kyodo.services.context import ServiceContext

MARKINGS = (
    "UNCLASSIFIED",
    "SECRET//REL TO USA, JPN",
    "SECRET//NOFORN",
    "TOP SECRET//REL TO USA, AUS, CAN, GBR, NZL",
    "秘//REL TO JPN, USA",
)
AT = datetime(2026, 12, 3, 10, 30, 15, 123456, tzinfo=UTC)


def _message(marking: str, ctx: ServiceContext, **changes: object) -> Message:
    fields: dict[str, object] = {
        "seq": 41,
        "net_id": "net-1",
        "author_id": "person-1",
        "label": parse_marking(marking, ctx.registry),
        "text": '補給状況の報告を受領 — "quoted" <b>and</b> \\ back',
        "html": "<p>補給状況の報告を受領</p>",
        "created_at": AT,
        "rev": 977,
    }
    fields.update(changes)
    return Message(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("marking", MARKINGS)
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"reply_to": 7, "version": 3, "edited_at": AT},
        {"deleted_at": AT, "deleted_by": "person-2"},
    ],
    ids=["posted", "edited reply", "deleted"],
)
async def test_the_payload_is_the_schemas_json_form(
    ctx: ServiceContext, marking: str, changes: dict[str, object]
) -> None:
    payload = message_json(ctx.registry, _message(marking, ctx, **changes), "us.smith")
    findings = [{"rule_id": "dtg", "text": "151200ZMAR25", "start": 3, "end": 15}]
    through_pydantic = PostedOut(
        message=MessageOut.model_validate(payload), guard_findings=findings
    ).model_dump(mode="json")
    as_returned = {"message": payload, "guard_findings": findings}
    assert as_returned == through_pydantic
    # Also key for key in the same order, so the bodies are the same bytes.
    assert json.dumps(as_returned) == json.dumps(through_pydantic)
