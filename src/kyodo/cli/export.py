"""`kyodo export net NAME`: the records export of a net, as the operator (audited)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kyodo.api.params import iso_time
from kyodo.cli.runtime import console, errors, operator, run, settings_with
from kyodo.errors import InvalidInput, KyodoError, NotFound
from kyodo.services import messages, nets
from kyodo.services.context import ServiceContext

app = typer.Typer(help="Records exports.", no_args_is_help=True)


@app.command("net")
def export_net(
    name: Annotated[str, typer.Argument(help="The net's name (or id).")],
    since: Annotated[
        str | None, typer.Option(help="ISO 8601 time with zone, e.g. 2026-11-01T00:00Z")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="Only jsonl for now.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
) -> None:
    """Every message with every version, label, tombstone and audit reference, between banner
    lines that carry the highest label exported."""
    if output_format != "jsonl":
        errors.print("[red]error:[/] --format: only jsonl is supported")
        raise typer.Exit(2)
    try:
        moment = iso_time(since, "--since")
    except KyodoError as exc:
        errors.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> tuple[int, str]:
        actor = operator(ctx)
        try:
            net = await nets.find_net(ctx, actor, name)
        except NotFound:
            raise InvalidInput(f"no net named {name!r}") from None
        count, banner = 0, ""
        handle = output.open("w", encoding="utf-8") if output else None
        try:
            async for line in messages.export_net(ctx, actor, net.id, since=moment):
                text = json.dumps(line, ensure_ascii=False)
                if handle:
                    handle.write(text + "\n")
                else:
                    typer.echo(text)
                if line["type"] == "banner":
                    banner = line["marking"]
                else:
                    count += 1
        finally:
            if handle:
                handle.close()
        return count, banner

    count, banner = run(settings, work)
    if output:
        console.print(f"exported {count} messages to {output} — banner {banner}")
