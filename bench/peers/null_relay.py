"""The CoT floor's runner: the null relay in a process of its own, measured like a peer."""

from __future__ import annotations

import sys

from ..procs import free_port
from .base import PEERS_DIR, ROOT, Managed, peer_env


class NullRelay(Managed):
    """bench/peers/null_relay_server.py: no parsing, storage or policy, only the fan-out."""

    name = "null relay (floor)"
    floor = True

    def start(self) -> None:
        self.port = free_port()
        script = str(PEERS_DIR / "null_relay_server.py")
        self.spawn("null relay", [sys.executable, script, str(self.port)], peer_env(), ROOT)
        self.wait_port(self.port, 20)
        self.processes_note = "one asyncio process: split on </event>, write to every other client"
