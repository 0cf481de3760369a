"""`kyodo init`, `kyodo serve`, `kyodo demo`: create the database, run the server, try the demo."""

from __future__ import annotations

import gc
import sys
from typing import Annotated

import typer
from rich.table import Table

from kyodo.audit_files import seal_paths
from kyodo.cli.runtime import console, errors, operator, run, settings_with
from kyodo.demo.loader import DemoLogin, load_demo
from kyodo.services import identity
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.wiring import open_sealer

DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides KYODO_DATABASE_URL.")
]
HostOpt = Annotated[str | None, typer.Option("--host", help="Listen address (127.0.0.1).")]
PortOpt = Annotated[int | None, typer.Option("--port", help="HTTP port (8000).")]


def init(
    admin_username: Annotated[str, typer.Option(help="The first admin's username.")] = "admin",
    admin_name: Annotated[str, typer.Option(help="The first admin's name.")] = "Administrator",
    admin_nation: Annotated[str, typer.Option(help="Nation (alpha-3).")] = "USA",
    admin_clearance: Annotated[str, typer.Option(help="Clearance level.")] = "TOP SECRET",
    admin_password: Annotated[
        str | None,
        typer.Option(help="Password (or KYODO_ADMIN_PASSWORD / KYODO_ADMIN_PASSWORD_FILE)."),
    ] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Create or migrate the database; create the first admin if there is no one yet."""
    settings = settings_with(database_url)
    password = admin_password or settings.admin_secret()

    async def work(ctx: ServiceContext) -> str:
        async with ctx.db.transaction(write=False) as tx:
            if await tx.people.count() > 0:
                return "database is up to date; people exist already, no admin created"
        secret = password
        if secret is None:
            if no_input or not sys.stdin.isatty():
                errors.print(
                    "[red]error:[/] no admin password: pass --admin-password or set "
                    "KYODO_ADMIN_PASSWORD(_FILE)"
                )
                raise SystemExit(2)
            secret = typer.prompt(
                "Password for the first admin", hide_input=True, confirmation_prompt=True
            )
        await identity.create_person(
            ctx,
            operator(ctx),
            identity.PersonInput(
                username=admin_username,
                name=admin_name,
                nation=admin_nation,
                clearance=admin_clearance,
                password=secret,
                roles=("admin",),
            ),
        )
        return f"database ready; admin {admin_username!r} created"

    async def seal(ctx: ServiceContext) -> str:
        # The key is made here, before the server ever starts, and the first records sealed.
        sealer = open_sealer(ctx, settings)
        await sealer.seal()
        key_path, log_path = seal_paths(settings)
        return (
            f"audit seal key: {key_path} (0600; back it up offline: checkpoints cannot be "
            f"verified without it); checkpoints: {log_path}"
        )

    console.print(run(settings, work))
    console.print(run(settings, seal))


def _serve(settings: Settings) -> None:
    # The HTTP stack is imported here, not at the top: the other commands never load it
    # (it is most of the CLI's start-up time).
    from kyodo.api.app import create_app
    from kyodo.api.listeners import CLIENT_CERTIFICATE, build_server

    app = create_app(settings)
    # What is loaded at start lives as long as the process: keep the collector from walking it
    # again and again, and let short-lived request objects pile up a little longer before a
    # collection (it ran ~10% of the event loop's time under load).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    console.print(
        f"Kyodo listening on [bold]http://{settings.host}:{settings.port}/[/] "
        f"(API docs: http://{settings.host}:{settings.port}/api/docs)"
    )
    server = build_server(app, settings)
    for listener in server.https:
        verb = "client certificates" if listener.name == CLIENT_CERTIFICATE else "enrolment"
        console.print(f"HTTPS ({verb}) on [bold]https://{settings.host}:{listener.port}/[/]")
    server.run()


def serve(host: HostOpt = None, port: PortOpt = None, database_url: DatabaseOpt = None) -> None:
    """Run the server (migrating the database first)."""
    settings = _overrides(settings_with(database_url), host, port)

    async def work(ctx: ServiceContext) -> None:
        return None

    run(settings, work)
    _serve(settings)


def demo(host: HostOpt = None, port: PortOpt = None, database_url: DatabaseOpt = None) -> None:
    """Load the demo data (idempotent), print the demo logins, and run the server."""
    settings = _overrides(settings_with(database_url), host, port)

    async def work(ctx: ServiceContext) -> list[DemoLogin]:
        return await load_demo(ctx, operator(ctx))

    logins = run(settings, work)
    table = Table(title="Demo logins (fictional people; public-source organisations)")
    for column in ("username", "password", "nation", "clearance", "roles", "name"):
        table.add_column(column, no_wrap=column != "name")
    for login in logins:
        table.add_row(
            login.username,
            login.password,
            login.nation,
            login.clearance,
            ", ".join(login.roles),
            login.name,
        )
    console.print(table)
    console.print(
        f"Open [bold]http://{settings.host}:{settings.port}/[/] in a browser and log in as one of "
        f"these people; the API and its documentation: http://{settings.host}:{settings.port}"
        "/api/docs"
    )
    _serve(settings)


def _overrides(settings: Settings, host: str | None, port: int | None) -> Settings:
    changes: dict[str, object] = {}
    if host:
        changes["host"] = host
    if port:
        changes["port"] = port
    return settings.model_copy(update=changes) if changes else settings
