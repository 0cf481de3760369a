"""`kyodo token …`: the operator lists and revokes people's API tokens by id (never secrets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kyodo.cli.runtime import console, operator, run, settings_with
from kyodo.services import identity, tokens

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kyodo.services.context import ServiceContext
    from kyodo.services.ports import SessionRecord

app = typer.Typer(help="List and revoke API tokens.", no_args_is_help=True)
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides KYODO_DATABASE_URL.")
]


@app.command("list")
def list_tokens(username: str, database_url: DatabaseOpt = None) -> None:
    """List a person's API tokens: id, name, scopes, expiry, and the token that minted each."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> Sequence[SessionRecord]:
        person = await identity.find_person(ctx, username)
        return await tokens.list_tokens(ctx, operator(ctx), person.id)

    table = Table()
    # Ids are what the operator types into `revoke`: never shortened, whatever the width.
    table.add_column("id", no_wrap=True, min_width=16)
    table.add_column("name", overflow="fold")
    table.add_column("scopes", overflow="fold")
    table.add_column("expires (UTC)", no_wrap=True)
    table.add_column("minted by", no_wrap=True, min_width=16)
    for record in run(settings, work):
        table.add_row(
            record.id,
            record.name,
            " ".join(sorted(record.scopes or ())),
            record.expires_at.strftime("%Y-%m-%d %H:%M") if record.expires_at else "never",
            record.parent_id or "",
        )
    console.print(table)


@app.command("revoke")
def revoke(token_id: str, database_url: DatabaseOpt = None) -> None:
    """Revoke an API token by id, and every token it minted (audited)."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> list[str]:
        return await tokens.revoke(ctx, operator(ctx), token_id)

    revoked = run(settings, work)
    console.print(f"revoked {len(revoked)} token(s): {', '.join(revoked)}")
