"""What the operator commands share: settings, the service context, the operator actor."""

from __future__ import annotations

import asyncio
import getpass
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from kyodo.errors import KyodoError
from kyodo.services.actor import Actor, operator_actor
from kyodo.settings import Settings
from kyodo.store.migrate import migrate
from kyodo.wiring import build_context

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from kyodo.services.context import ServiceContext

T = TypeVar("T")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


def settings_with(database_url: str | None = None) -> Settings:
    """Settings from the environment/TOML, with the command line's database URL on top."""
    try:
        return Settings(database_url=database_url) if database_url else Settings()
    except ValueError as exc:
        errors.print(f"[red]error:[/] invalid settings: {exc}")
        raise typer.Exit(2) from None


def operator(ctx: ServiceContext) -> Actor:
    """The local operator, named after the OS user, holding every role."""
    return operator_actor(getpass.getuser(), ctx.registry)


def run(settings: Settings, work: Callable[[ServiceContext], Awaitable[T]]) -> T:
    """Migrate the database, run `work` with a context, close it; KyodoError → exit 2."""

    async def main() -> T:
        ctx = build_context(settings)
        try:
            await migrate(ctx.db)  # type: ignore[arg-type]
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    try:
        return asyncio.run(main())
    except KyodoError as exc:
        errors.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
