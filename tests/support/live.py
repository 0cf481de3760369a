"""A real Kyodo server process (uvicorn) on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

ADMIN_PASSWORD = "live admin password"


def unique(name: str) -> str:
    """`name` made unique, for what a test makes on a server other tests share."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    """Free loopback ports, all different (held open together while they are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def kyodo(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as an operator would, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "kyodo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@dataclass
class LiveServer:
    url: str
    database_url: str
    proc: subprocess.Popen[str] | None = None
    log: IO[str] | None = None

    def log_text(self) -> str:
        """Everything the server has logged so far."""
        assert self.log is not None
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def admin_token(self) -> str:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            login = http.post(
                "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            login.raise_for_status()
            token = http.post(
                "/api/v1/auth/tokens",
                json={"name": "tests", "scopes": ["read", "write", "admin"]},
                headers={"X-CSRF-Token": login.json()["csrf_token"]},
            )
            token.raise_for_status()
            value: str = token.json()["token"]
            return value


@contextmanager
def live_server(database_url: str, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """`kyodo init` then `kyodo serve` on a free port; stopped (and waited for) at the end."""
    with tempfile.TemporaryDirectory() as folder:
        # The audit seal's key and checkpoints: this test's own, not the user's state folder.
        seal = {
            "KYODO_AUDIT_KEY_FILE": f"{folder}/audit-seal.key",
            "KYODO_AUDIT_CHECKPOINT_FILE": f"{folder}/audit-checkpoints.jsonl",
        }
        with _live_server(database_url, {**seal, **(env or {})}) as server:
            yield server


@contextmanager
def _live_server(database_url: str, env: dict[str, str]) -> Iterator[LiveServer]:
    init = kyodo(
        "init",
        "--no-input",
        "--admin-password",
        ADMIN_PASSWORD,
        "--database-url",
        database_url,
        env=env,
    )
    assert init.returncode == 0, init.stderr
    port = free_port()
    # The server's log goes to a file: a pipe nobody reads would block it once full.
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kyodo",
                "serve",
                "--port",
                str(port),
                "--database-url",
                database_url,
            ],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "KYODO_COT_PORT": "0", "KYODO_COT_TLS_PORT": "0", **env},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"server did not start: {log.read()[-3000:]}")
                time.sleep(0.2)
            yield LiveServer(url, database_url, proc, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
