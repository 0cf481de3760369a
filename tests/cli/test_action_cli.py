"""`kyodo action list|show|transition`: a person's view (withheld fields marked, never their
values), the operator's, and a step taken or refused with its reasons."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from kyodo.api.app import build_context
from kyodo.cli import app
from kyodo.domain.actions import ActionKind
from kyodo.labels import parse_marking
from kyodo.services import actions
from kyodo.services.actor import person_actor
from kyodo.settings import Settings

from tests.support.factories import add_org, add_person, make_operator

runner = CliRunner()


def _seed(url: str) -> str:
    async def main() -> str:
        ctx = build_context(Settings(database_url=url))
        try:
            operator = make_operator(ctx)
            await add_org(ctx, operator, "usfj", nation="USA")
            await add_org(ctx, operator, "jjoc", nation="JPN")
            us = await add_person(
                ctx, operator, "us.ao", clearance="TOP SECRET", org_id="usfj", password=None
            )
            await add_person(
                ctx,
                operator,
                "jp.staff",
                nation="JPN",
                clearance="GOKUHI",
                org_id="jjoc",
                password=None,
            )
            made = await actions.create_action(
                ctx,
                person_actor(us, "session"),
                actions.NewAction(
                    kind=ActionKind.TASKER,
                    label=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
                    owner_org="usfj",
                    opr_org="jjoc",
                    fields={
                        "title": ("Ishigaki range survey", None),
                        "response": ("NOFORN note", parse_marking("SECRET//NOFORN", ctx.registry)),
                    },
                ),
            )
            return made.id
        finally:
            await ctx.db.dispose()

    return asyncio.run(main())


def test_list_show_and_transition(database_url: str) -> None:
    action_id = _seed(database_url)
    db = ["--database-url", database_url]
    listed = runner.invoke(app, ["action", "list", "--as", "jp.staff", "--json", *db])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.output.splitlines()[0])
    assert row["id"] == action_id
    assert row["fields"]["response"] == "withheld: SECRET//NOFORN"
    assert "NOFORN note" not in listed.output
    shown = runner.invoke(app, ["action", "show", action_id, *db])  # the operator reads all
    assert shown.exit_code == 0 and "NOFORN note" in shown.output
    refused = runner.invoke(
        app, ["action", "transition", action_id, "issue", "--as", "jp.staff", *db]
    )
    assert refused.exit_code == 2 and "taken by the action's owner" in refused.output
    done = runner.invoke(app, ["action", "transition", action_id, "issue", "--as", "us.ao", *db])
    assert done.exit_code == 0 and "ISSUED" in done.output
    shown = runner.invoke(app, ["action", "show", action_id, "--as", "jp.staff", "--json", *db])
    body = json.loads(shown.output)
    assert body["state"] == "ISSUED" and body["waiting_on_me"] is True
    assert body["next_steps"] == ["acknowledge"]
