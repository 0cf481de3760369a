"""`kyodo audit verify|export`: check the hash chain, write the log out as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kyodo.audit.chain import VerifyReport
from kyodo.audit_files import CheckpointFile, load_key, seal_paths
from kyodo.cli.runtime import console, errors, operator, run, settings_with
from kyodo.services import audit
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="Overrides KYODO_DATABASE_URL.")
]


@app.command("verify")
def verify(
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="The head an earlier verify printed, kept outside the database: catches the "
            "newest records being deleted (repeat for several).",
        ),
    ] = None,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also check the chain against the sealed checkpoints (KYODO_AUDIT_KEY_FILE, "
            "KYODO_AUDIT_CHECKPOINT_FILE), and every stored message version and membership "
            "against the audit record that created it.",
        ),
    ] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Walk the chain; report the first edited, deleted or reordered record (exit 1)."""
    anchors = _anchors(anchor or [])
    settings = settings_with(database_url)
    if deep:
        _verify_deep(settings, anchors)
        return

    async def work(ctx: ServiceContext) -> VerifyReport:
        with console.status("verifying the audit chain…"):
            return await audit.verify_audit(ctx, operator(ctx), anchors)

    report = run(settings, work)
    if report.ok:
        console.print(f"audit chain intact: {report.records} records")
        console.print(
            f"head: {report.head_seq}:{report.head_hash} (keep it outside this server and pass "
            "it as --anchor next time)"
        )
        return
    errors.print(f"[red]audit chain broken at record {report.first_broken}[/]: {report.reason}")
    raise typer.Exit(1)


def _verify_deep(settings: Settings, anchors: dict[int, str]) -> None:
    key_path, log_path = seal_paths(settings)
    checkpoints = CheckpointFile(log_path)

    async def work(ctx: ServiceContext) -> audit.DeepReport:
        # Read here, not before: a key or log that cannot be used is a clear error (exit 2).
        public = load_key(key_path).public_key()
        found = checkpoints.read()
        with console.status("verifying the audit chain, its checkpoints and the stored data…"):
            return await audit.verify_audit_deep(ctx, operator(ctx), found, public, anchors)

    report = run(settings, work)
    problems = [*checkpoints.malformed, *report.problems]
    chain = report.chain
    if chain.ok:
        console.print(
            f"audit chain intact: {chain.records} records, {report.checkpoints} sealed "
            f"checkpoint(s) ({log_path}); head: {chain.head_seq}:{chain.head_hash}"
        )
    else:
        errors.print(f"[red]audit chain broken at record {chain.first_broken}[/]: {chain.reason}")
    for problem in problems:
        errors.print(f"[red]problem:[/] {problem}")
    if not chain.ok or problems:
        raise typer.Exit(1)
    console.print("stored messages, versions and memberships match their audit records")


def _anchors(values: list[str]) -> dict[int, str]:
    anchors: dict[int, str] = {}
    for value in values:
        seq, _, digest = value.partition(":")
        digest = digest.strip().lower()
        if (
            not seq.strip().isdigit()
            or len(digest) != 64
            or not all(c in "0123456789abcdef" for c in digest)
        ):
            errors.print(
                f"[red]error:[/] --anchor {value!r}: expected SEQ:HASH, e.g. 42:<64 hex digits>"
            )
            raise typer.Exit(2)
        anchors[int(seq)] = digest
    return anchors


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
