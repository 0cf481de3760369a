"""`kyodo cot send|listen`: test a CoT connection from an operator's shell."""

from __future__ import annotations

import asyncio
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from kyodo.cli.runtime import console, errors
from kyodo.cot import (
    Credentials,
    Event,
    XmlEventReader,
    protocol_request,
    serialise_auth,
    serialise_event,
)

app = typer.Typer(help="Cursor-on-Target test client.", no_args_is_help=True)
HostOpt = Annotated[str, typer.Option(help="Server address.")]
PortOpt = Annotated[int, typer.Option(help="CoT port (8087 TCP, 8089 TLS).")]
CertOpt = Annotated[Path | None, typer.Option(help="Client certificate (PEM) for TLS.")]
KeyOpt = Annotated[Path | None, typer.Option(help="Client key (PEM) for TLS.")]
CaOpt = Annotated[Path | None, typer.Option(help="CA certificate (PEM) to trust for TLS.")]


def _tls(cert: Path | None, key: Path | None, ca: Path | None) -> ssl.SSLContext | None:
    if cert is None and key is None and ca is None:
        return None
    if not (cert and key and ca):
        errors.print("[red]error:[/] TLS needs --cert, --key and --ca together")
        raise typer.Exit(2)
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    return context


async def _open(
    host: str, port: int, context: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=context, server_hostname=host if context else None
            ),
            10,
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        errors.print(f"[red]error:[/] cannot connect to {host}:{port}: {exc}")
        raise typer.Exit(2) from None


@app.command("send")
def send(
    file: Annotated[str, typer.Argument(help="A file of CoT events, or - for standard input.")],
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8087,
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
) -> None:
    """Check the events in FILE and send them; exit 2 if any is invalid or the connection fails."""
    data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    reader = XmlEventReader()
    batch = reader.feed(data)
    if batch.refusals or not batch.items:
        for refused in batch.refusals:
            errors.print(f"[red]refused:[/] {refused}")
        if not batch.items:
            errors.print("[red]error:[/] no CoT event to send")
        raise typer.Exit(2)
    context = _tls(cert, key, ca)

    async def work() -> None:
        _, writer = await _open(host, port, context)
        for item in batch.items:  # credentials (<auth>) too, where the file has them
            writer.write(
                serialise_auth(item) if isinstance(item, Credentials) else serialise_event(item)
            )
        await writer.drain()
        writer.close()

    asyncio.run(work())
    console.print(f"sent {len(batch.items)} event(s) to {host}:{port}")


@app.command("listen")
def listen(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8087,
    cert: CertOpt = None,
    key: KeyOpt = None,
    ca: CaOpt = None,
    count: Annotated[int, typer.Option(help="Stop after this many events (0: never).")] = 0,
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: never).")] = 0,
) -> None:
    """Print every event the server sends (one XML event per line)."""
    context = _tls(cert, key, ca)

    async def work() -> int:
        reader, writer = await _open(host, port, context)
        # Decline TAK protocol 1 at once: a server sends the snapshot when it knows the
        # client's format, and would otherwise wait out its negotiation window.
        writer.write(serialise_event(protocol_request(datetime.now(UTC), version=0)))
        events = XmlEventReader()
        seen = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds if seconds else None
        try:
            while not count or seen < count:
                wait = None if deadline is None else max(0.0, deadline - loop.time())
                try:
                    data = await asyncio.wait_for(reader.read(65536), wait)
                except TimeoutError:
                    break
                if not data:
                    break
                for event in events.feed(data).items:
                    if not isinstance(event, Event) or event.type.startswith("t-x-takp"):
                        continue
                    typer.echo(serialise_event(event).decode("utf-8"))
                    seen += 1
        finally:
            writer.close()
        return seen

    seen = asyncio.run(work())
    errors.print(f"{seen} event(s) received")
