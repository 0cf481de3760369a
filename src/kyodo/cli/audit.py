"""`kyodo audit verify|export`: check the hash chain, write the log out as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kyodo.audit.chain import VerifyReport
from kyodo.cli.runtime import console, errors, operator, run, settings_with
from kyodo.services import audit
from kyodo.services.context import ServiceContext

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides KYODO_DATABASE_URL.")
]


@app.command("verify")
def verify(database_url: DatabaseOpt = None) -> None:
    """Walk the chain; report the first edited, deleted or reordered record (exit 1)."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> VerifyReport:
        with console.status("verifying the audit chain…"):
            return await audit.verify_audit(ctx, operator(ctx))

    report = run(settings, work)
    if report.ok:
        console.print(f"audit chain intact: {report.records} records")
        return
    errors.print(f"[red]audit chain broken at record {report.first_broken}[/]: {report.reason}")
    raise typer.Exit(1)


@app.command("export")
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Write every record as JSON lines (the export itself is audited)."""
    settings = settings_with(database_url)

    async def work(ctx: ServiceContext) -> int:
        count = 0
        handle = output.open("w", encoding="utf-8") if output else None
        try:
            async for record in audit.export_audit(ctx, operator(ctx)):
                line = json.dumps(record.as_dict(), ensure_ascii=False)
                if handle:
                    handle.write(line + "\n")
                else:
                    typer.echo(line)
                count += 1
        finally:
            if handle:
                handle.close()
        return count

    count = run(settings, work)
    if output:
        console.print(f"exported {count} records to {output}")
