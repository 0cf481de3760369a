"""`kyodo user …`: the operator manages people from the server's console (audited as cli:USER)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kyodo.cli.runtime import console, errors, operator, run, settings_with
from kyodo.domain.identity import Person
from kyodo.errors import KyodoError
from kyodo.pki.files import load_certificate
from kyodo.pki.names import fingerprint as fingerprint_of
from kyodo.services import identity
from kyodo.services.context import ServiceContext

app = typer.Typer(help="Manage people.", no_args_is_help=True)
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides KYODO_DATABASE_URL.")
]


@app.command("add")
def add(
    username: str,
    name: Annotated[str, typer.Option(help="Full name (Latin script).")],
    nation: Annotated[str, typer.Option(help="Nation, ISO 3166 alpha-3.")],
    clearance: Annotated[str, typer.Option(help="Clearance level, e.g. SECRET or GOKUHI.")],
    name_ja: Annotated[str | None, typer.Option(help="Name in Japanese script.")] = None,
    grant: Annotated[list[str] | None, typer.Option(help="Restrictive category (repeat).")] = None,
    role: Annotated[list[str] | None, typer.Option(help="Role (repeat).")] = None,
    org: Annotated[str | None, typer.Option(help="Organisation id.")] = None,
    password: Annotated[str | None, typer.Option(help="Password (prompted if omitted).")] = None,
    no_password: Annotated[bool, typer.Option(help="Create without a password.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a person."""
    settings = settings_with(database_url)
    if password is None and not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(ctx: ServiceContext) -> Person:
        return await identity.create_person(
            ctx,
            operator(ctx),
            identity.PersonInput(
                username=username,
                name=name,
                name_ja=name_ja,
                nation=nation,
                clearance=clearance,
                password=password,
                grants=tuple(grant or ()),
                roles=tuple(role or ("member",)),
                org_id=org,
            ),
        )

    person = run(settings, work)
    console.print(f"added {person.username} ({person.nation} {person.clearance}) id {person.id}")


@app.command("list")
def list_people(database_url: DatabaseOpt = None) -> None:
    """List every person."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> list[Person]:
        actor = operator(ctx)
        people: list[Person] = []
        cursor: str | None = None
        while True:
            page = await identity.list_people(ctx, actor, cursor, 200)
            people.extend(page.items)
            if page.next_cursor is None:
                return people
            cursor = page.next_cursor

    table = Table("username", "name", "nation", "clearance", "grants", "roles", "org", "active")
    for p in run(settings, work):
        table.add_row(
            p.username,
            p.name,
            p.nation,
            p.clearance,
            ", ".join(sorted(p.grants)),
            ", ".join(sorted(r.value for r in p.roles)),
            p.org_id or "",
            "yes" if p.active else "no",
        )
    console.print(table)


def _change(username: str, database_url: str | None, **changes: object) -> Person:
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> Person:
        person = await identity.find_person(ctx, username)
        return await identity.update_person(
            ctx,
            operator(ctx),
            person.id,
            identity.PersonChanges(**changes),  # type: ignore[arg-type]
        )

    return run(settings, work)


@app.command("grant")
def grant(
    username: str,
    categories: list[str],
    revoke: Annotated[bool, typer.Option(help="Remove these grants instead.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Give (or with --revoke take away) restrictive categories such as SI."""
    settings = settings_with(database_url)

    async def current(ctx: ServiceContext) -> Person:
        return await identity.find_person(ctx, username)

    before = run(settings, current)
    wanted = {c.upper() for c in categories}
    grants = before.grants - wanted if revoke else before.grants | wanted
    person = _change(username, database_url, grants=tuple(sorted(grants)))
    console.print(f"{person.username} now holds: {', '.join(sorted(person.grants)) or 'none'}")


@app.command("set-clearance")
def set_clearance(username: str, level: str, database_url: DatabaseOpt = None) -> None:
    """Change a person's clearance (takes effect at once; audited)."""
    person = _change(username, database_url, clearance=level)
    console.print(f"{person.username} is now cleared {person.clearance}")


@app.command("register-cert")
def register_cert(
    username: str,
    fingerprint: Annotated[str | None, typer.Option(help="SHA-256 fingerprint (hex).")] = None,
    cert: Annotated[Path | None, typer.Option(help="The client certificate (PEM or DER).")] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Register a TLS client certificate to a person (CoT clients then act as them)."""
    if (fingerprint is None) == (cert is None):
        errors.print("[red]error:[/] give exactly one of --fingerprint or --cert")
        raise typer.Exit(2)
    subject = ""
    if cert is not None:
        try:
            certificate = load_certificate(cert)
        except KyodoError as exc:
            errors.print(f"[red]error:[/] {exc.message}")
            raise typer.Exit(2) from None
        fingerprint = fingerprint_of(certificate)
        subject = certificate.subject.rfc4514_string()
    assert fingerprint is not None  # noqa: S101 - one of the two was given
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> Person:
        person = await identity.find_person(ctx, username)
        await identity.register_certificate(ctx, operator(ctx), person.id, fingerprint, subject)
        return person

    person = run(settings, work)
    console.print(f"certificate {fingerprint} registered to {person.username}")


@app.command("revoke-cert")
def revoke_cert(fingerprint: str, database_url: DatabaseOpt = None) -> None:
    """Revoke a registered client certificate."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> None:
        await identity.revoke_certificate(ctx, operator(ctx), fingerprint)

    run(settings, work)
    console.print("certificate revoked")
