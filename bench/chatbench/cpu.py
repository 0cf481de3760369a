"""Cores used during a chat step: the server, PostgreSQL, the bench, other jobs and steal."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..machine import machine_cpu
from ..procs import postgres_cpu, proc_cpu


@dataclass
class CpuSnapshot:
    """CPU seconds so far of the server, the bench, PostgreSQL and the machine."""

    wall: float
    server: float
    bench: float
    db: dict[int, float]
    busy: float
    steal: float

    @classmethod
    def take(cls, server_pid: int, postgres: bool) -> CpuSnapshot:
        busy, _, steal = machine_cpu()
        return cls(
            time.perf_counter(),
            proc_cpu(server_pid),
            time.process_time(),
            postgres_cpu() if postgres else {},
            busy,
            steal,
        )

    def cores_since(self, before: CpuSnapshot) -> dict[str, float]:
        wall = max(self.wall - before.wall, 1e-9)
        cores = {
            "server": (self.server - before.server) / wall,
            "bench": (self.bench - before.bench) / wall,
            "db": sum(max(0.0, t - before.db.get(pid, 0.0)) for pid, t in self.db.items()) / wall,
            "machine": (self.busy - before.busy) / wall,
        }
        cores["steal"] = (self.steal - before.steal) / wall
        cores["other"] = max(
            0.0,
            cores["machine"] - cores["steal"] - cores["server"] - cores["db"] - cores["bench"],
        )
        cores["server_seconds"] = self.server - before.server
        return cores


# ---------------------------------------------------------------------------------------------
# Set-up through the HTTP API
# ---------------------------------------------------------------------------------------------
