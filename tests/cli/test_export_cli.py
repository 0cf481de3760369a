"""`kyodo export net NAME`: the operator's records export, with banners, versions, tombstones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kyodo.labels import parse_marking
from kyodo.services import messages, nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person
from tests.support.live import kyodo

pytestmark = pytest.mark.slow  # every test runs `kyodo` as a real process


async def test_export_net_writes_every_version_and_tombstone(
    ctx: ServiceContext, operator: Actor, database_url: str, tmp_path: Path
) -> None:
    owner = person_actor(await add_person(ctx, operator, "owner", clearance="SECRET"), "api")
    net = await nets.create_net(
        ctx, owner, name="ops log", ceiling=parse_marking("SECRET//NOFORN", ctx.registry)
    )
    first = await messages.post_message(ctx, owner, net.id, "Generator maintenance at 0800.")
    await messages.edit_message(ctx, owner, first.message.seq, "Generator maintenance at 0900.")
    second = await messages.post_message(ctx, owner, net.id, "Wrong room, ignore.")
    await messages.delete_message(ctx, owner, second.message.seq)
    out = tmp_path / "ops.jsonl"
    result = kyodo("export", "net", "ops log", "--output", str(out), "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    assert "banner SECRET//NOFORN" in result.stdout
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["type"] for line in lines] == ["banner", "message", "message", "banner"]
    assert [v["text"] for v in lines[1]["versions"]] == [
        "Generator maintenance at 0800.",
        "Generator maintenance at 0900.",
    ]
    assert lines[2]["deleted_at"] is not None and lines[2]["versions"][0]["text"]
    missing = kyodo("export", "net", "no such net", "--database-url", database_url)
    assert missing.returncode == 2 and "no net named" in missing.stderr
    bad = kyodo("export", "net", "ops log", "--since", "yesterday", "--database-url", database_url)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr
