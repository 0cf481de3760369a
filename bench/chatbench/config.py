"""The chat bench's command line, its targets and the console it prints on."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

OUT_DIR = Path(__file__).resolve().parent.parent / "out"
FLOOR = "floor"  # the WebSocket fan-out measured after the back-ends (bench/peers/ws_fanout.py)


TARGET_RATE = 500.0  # messages/s, the chat-nets issue
TARGET_P99_MS = 50.0
POST_TIMEOUT = 10.0  # seconds for the server to answer a post
EXPLODED_P99_MS = 1000.0  # a step whose p99 passes this is no longer "sustained"
KEEP_UP = 0.95  # achieved/offered for a step to count as keeping up
OTHER_QUIET = 0.3  # cores used by other jobs on the machine below which it counts as quiet
OTHER_REPEAT = 0.5  # a step during which other jobs used more is measured once more
USER_PASSWORD = "chat bench user password"  # noqa: S105
NET_LABEL = "SECRET//REL TO USA, JPN"
SHARED_MACHINE = (
    "the server, PostgreSQL and the load generator (the WebSocket clients and HTTP posters, one "
    "process) share this machine's cores, as do other jobs running on it (column 'other'): "
    "figures are a lower bound for a dedicated server"
)


@dataclass(frozen=True)
class Config:
    """What to run: back-ends, clients, nets, rates, step lengths and limits."""

    backends: tuple[str, ...]
    clients: int
    nets: int
    posters: int
    rates: tuple[float, ...]
    search: tuple[float, ...]
    refine: int
    step_seconds: float
    drain_seconds: float
    connections: int
    pg_url: str
    profile: str  # auto | always | never
    deflate: bool
    max_minutes: float
    quiet_wait: float
    quick: bool
    floor: bool = True
    out: Path = OUT_DIR


def parse_args(argv: list[str] | None = None) -> Config:
    """The run the command line asks for."""
    parser = argparse.ArgumentParser(
        description="Chat benchmark: post→delivery latency and messages/s over WebSocket."
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run (40 clients)")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma list: sqlite, postgres"
    )
    parser.add_argument("--clients", type=int, help="WebSocket clients (200)")
    parser.add_argument("--nets", type=int, help="nets, clients spread evenly (20)")
    parser.add_argument("--posters", type=int, help="posting accounts, members of every net (8)")
    parser.add_argument("--rates", help="fixed offered rates, messages/s (100,250,500)")
    parser.add_argument(
        "--search", help="rates tried above the fixed ones while sustained (750,1000,1500,...)"
    )
    parser.add_argument("--step-seconds", type=float, help="seconds per rate step (15)")
    parser.add_argument(
        "--connections",
        type=int,
        default=64,
        help="HTTP keep-alive connections for the posts (64: with 16, a post could go only when "
        "one of 16 earlier ones had been answered, which capped the posts in flight, and so the "
        "server's group-commit batches, at 16 - a limit of the load generator, not of many "
        "people posting from their own browsers)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("KYODO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="maintenance URL: the bench creates (and drops) its own database there",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy the server during an extra step at the target rate (auto: if missed)",
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="clients do not offer permessage-deflate (browsers do; default offers it)",
    )
    parser.add_argument("--max-minutes", type=float, help="hard limit for the whole run")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds per backend the bench may wait for other jobs on the machine to calm down "
        "before a step (0: never wait)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the floor (a WebSocket fan-out with no storage or policy, same load)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where to write (bench/out)")
    args = parser.parse_args(argv)

    def floats(text: str | None, default: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(float(x) for x in text.split(",") if x.strip()) if text else default

    quick = bool(args.quick)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    for backend in backends:
        if backend not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {backend!r}")
    clients = args.clients or (40 if quick else 200)
    nets = args.nets or (4 if quick else 20)
    if clients % nets:
        parser.error("--clients must be a multiple of --nets")
    return Config(
        backends=backends,
        clients=clients,
        nets=nets,
        posters=args.posters or (2 if quick else 8),
        rates=floats(args.rates, (50.0, 100.0) if quick else (100.0, 250.0, 500.0)),
        search=floats(args.search, () if quick else (750.0, 1000.0, 1500.0, 2000.0, 3000.0)),
        refine=0 if quick else 2,
        step_seconds=args.step_seconds or (4.0 if quick else 15.0),
        drain_seconds=3.0 if quick else 5.0,
        connections=args.connections,
        pg_url=args.pg_url,
        profile="never" if quick and args.profile == "auto" else args.profile,
        deflate=not args.no_deflate,
        max_minutes=args.max_minutes or (6.0 if quick else 50.0),
        quiet_wait=args.quiet_wait,
        quick=quick,
        floor=not args.no_floor,
        out=args.out,
    )


# ---------------------------------------------------------------------------------------------
# The server process and its database
# ---------------------------------------------------------------------------------------------


console = Console(width=None if sys.stdout.isatty() else 200)
