"""A CoT server the bench does not start (--target HOST:PORT)."""

from __future__ import annotations

from ..procs import LOOPBACK, port_in_use
from .base import Managed, ServerError


class External(Managed):
    """A server the bench does not start (--target)."""

    def __init__(self, name: str, host: str, port: int, pids: tuple[int, ...]) -> None:
        super().__init__()
        self.name = name
        self.host = host
        self.port = port
        self.external_pids = list(pids)

    def start(self) -> None:
        if not port_in_use(self.port) and self.host in (LOOPBACK, "localhost"):
            raise ServerError(f"nothing listens on {self.host}:{self.port}")

    @property
    def pids(self) -> list[int]:
        return self.external_pids

    def alive(self) -> bool:
        return True
