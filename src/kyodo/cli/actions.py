"""`kyodo action …`: list, show and move coordination actions from the console or a script —
as a named person (`--as`, their view and their rights; audited as `cli:<username>`), or as the
operator, who reads every action but is party to none."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kyodo.cli.runtime import console, operator, run, settings_with
from kyodo.domain.actions import ActionKind
from kyodo.labels import render_marking
from kyodo.services import actions, identity
from kyodo.services.actor import person_actor

if TYPE_CHECKING:
    from kyodo.services.actions import ActionDetail, ActionPage, ActionSeen
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

app = typer.Typer(help="List, show and move coordination actions.", no_args_is_help=True)
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides KYODO_DATABASE_URL.")
]
AsOpt = Annotated[
    str | None,
    typer.Option("--as", help="Act as this person (their view and rights), not as the operator."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON lines, for scripts.")]


async def _actor(ctx: ServiceContext, username: str | None) -> Actor:
    if username is None:
        return operator(ctx)
    return person_actor(await identity.find_person(ctx, username), "cli")


def _field_text(seen: ActionSeen, name: str, ctx: ServiceContext) -> str:
    found = seen.fields.get(name)
    if found is None:
        return ""
    if found.withheld:
        return (
            "withheld"
            if found.label is None
            else f"withheld: {render_marking(found.label, ctx.registry)}"
        )
    return str(found.value if found.value is not None else "")


def _seen_json(seen: ActionSeen, ctx: ServiceContext) -> dict[str, object]:
    return {
        "id": seen.id,
        "kind": seen.kind.value,
        "state": seen.state,
        "priority": seen.priority.value,
        "banner": render_marking(seen.banner, ctx.registry),
        "overdue": seen.overdue,
        "waiting_on_me": seen.waiting_on_me,
        "next_steps": list(seen.next_steps),
        "fields": {n: _field_text(seen, n, ctx) for n in seen.fields},
    }


@app.command("list")
def list_actions(
    as_user: AsOpt = None,
    kind: Annotated[str | None, typer.Option(help="tasker, rfi, support_request, …")] = None,
    state: Annotated[str | None, typer.Option()] = None,
    waiting: Annotated[bool, typer.Option("--waiting", help="Only what waits on you.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue or expired.")] = False,
    sort: Annotated[str, typer.Option(help="inbox, deadline, priority, created, …")] = "inbox",
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Actions as the person sees them: overdue first, withheld fields marked."""
    settings = settings_with(database_url)
    query = actions.ActionQuery(
        kind=None if kind is None else ActionKind(kind),
        state=state,
        waiting_on_me=waiting,
        overdue=True if overdue else None,
        sort=sort,
        limit=limit,
    )

    async def work(ctx: ServiceContext) -> tuple[ActionPage, list[dict[str, object]]]:
        page = await actions.list_actions(ctx, await _actor(ctx, as_user), query)
        return page, [_seen_json(s, ctx) for s in page.items]

    page, rows = run(settings, work)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{page.total} action(s)")
    for column in ("id", "kind", "state", "priority", "title", "suspense", "banner"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for row in rows:
        fields = row["fields"]
        assert isinstance(fields, dict)  # noqa: S101 - built above
        mark = "! " if row["overdue"] else ""
        table.add_row(
            str(row["id"]),
            str(row["kind"]),
            str(row["state"]),
            str(row["priority"]),
            mark + str(fields.get("title", "")),
            str(fields.get("suspense", fields.get("ltiov", ""))),
            str(row["banner"]),
        )
    console.print(table)


@app.command("show")
def show(
    action_id: str,
    as_user: AsOpt = None,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """One action: its fields (withheld ones marked), timeline, concurrences and signatures."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> dict[str, object]:
        detail: ActionDetail = await actions.get_action(ctx, await _actor(ctx, as_user), action_id)
        body = _seen_json(detail.seen, ctx)
        body["timeline"] = [
            f"{t.at.isoformat()} {t.from_state} → {t.to_state} ({t.name}) by {t.actor_id}"
            for t in detail.transitions
        ]
        body["concurrences"] = [
            f"{c.org_id}: {c.answer.value}"
            + (f" [{c.status.value}, {c.level.value}]" if c.status else "")
            for c in detail.concurrences
        ]
        body["signatures"] = [
            f"{s.nation} (round {s.round}) by {s.person_id}" for s in detail.signatures
        ]
        return body

    body = run(settings, work)
    if as_json:
        typer.echo(json.dumps(body, ensure_ascii=False))
        return
    console.print(f"[bold]{body['banner']}[/]")
    for key in ("id", "kind", "state", "priority", "overdue", "waiting_on_me", "next_steps"):
        console.print(f"{key}: {body[key]}")
    fields = body["fields"]
    assert isinstance(fields, dict)  # noqa: S101 - built above
    for name, text in fields.items():
        console.print(f"  {name}: {text}", markup=False)
    for key in ("timeline", "concurrences", "signatures"):
        console.print(f"{key}:")
        for line in body[key]:  # type: ignore[attr-defined]
            console.print(f"  {line}", markup=False)


@app.command("transition")
def transition(
    action_id: str,
    step: str,
    as_user: Annotated[str, typer.Option("--as", help="The person taking the step.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the timeline).")] = "",
    database_url: DatabaseOpt = None,
) -> None:
    """Take a step of the action's state machine as a person (refusals audited, with reasons)."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> str:
        done = await actions.transition(ctx, await _actor(ctx, as_user), action_id, step, reason)
        return done.state

    console.print(f"{action_id}: {run(settings, work)}")
