"""Kyodo from this checkout, started by the bench: a CoT TCP server, or a chat HTTP server."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from ..procs import LOOPBACK, die_with_parent, free_port
from .base import ROOT, WORK_DIR, Managed, ServerError, peer_env

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ADMIN_PASSWORD = "bench admin password"  # noqa: S105 - a throwaway local server
CHAT_ADMIN_PASSWORD = "chat bench admin password"  # noqa: S105


class KyodoCot(Managed):
    """`kyodo init` and `kyodo serve` from this checkout with a CoT TCP port (KYODO_COT_PORT)."""

    name = "Kyodo"

    def start(self) -> None:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="kyodo-", dir=WORK_DIR))
        self.port = free_port()
        self.http_port = free_port()
        database = f"sqlite+aiosqlite:///{self.tmp}/kyodo.db"
        env = peer_env(
            {
                "KYODO_DATABASE_URL": database,
                "KYODO_COT_PORT": str(self.port),
                "KYODO_COT_TLS_PORT": "0",  # plain TCP only, like the peers' runs
            }
        )
        python = str(ROOT / ".venv" / "bin" / "python")
        if not Path(python).exists():
            python = sys.executable
        init = subprocess.run(  # noqa: S603
            [python, "-m", "kyodo", "init", "--no-input", "--admin-password", ADMIN_PASSWORD],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
        )
        if init.returncode != 0:
            raise ServerError(f"kyodo init failed: {(init.stderr or init.stdout)[-2000:]}")
        serve_help = subprocess.run(  # noqa: S603
            [python, "-m", "kyodo", "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
            cwd=ROOT,
        ).stdout
        argv = [python, "-m", "kyodo", "serve", "--host", LOOPBACK, "--port", str(self.http_port)]
        if "--cot-port" in serve_help:
            argv += ["--cot-port", str(self.port)]
        self.spawn("kyodo serve", argv, env, ROOT)
        self.wait_port(self.http_port, 120)
        try:
            self.wait_port(self.port, 20)
        except ServerError as exc:
            raise ServerError(
                f"Kyodo's HTTP server is up but no CoT TCP listener opened on {self.port} "
                f"(KYODO_COT_PORT; `kyodo serve --help` lists no CoT option): {exc}"
            ) from None
        self.processes_note = "one process (SQLite)"

    def cleanup(self) -> None:
        if getattr(self, "tmp", None) is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _chat_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    # Only failed logins count against an address; set high so the set-up is never throttled.
    env["KYODO_LOGIN_MAX_FAILURES_PER_ADDRESS"] = "1000000"
    return env


class KyodoChat:
    """`kyodo init` then `kyodo serve` on a free loopback port; `stop` waits for it to exit."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[str] | None = None

    def start(self) -> None:
        init = subprocess.run(  # noqa: S603 - our own interpreter and CLI
            [
                sys.executable,
                "-m",
                "kyodo",
                "init",
                "--no-input",
                "--admin-password",
                CHAT_ADMIN_PASSWORD,
                "--database-url",
                self.database_url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env=_chat_env(),
            stdin=subprocess.DEVNULL,
        )
        if init.returncode != 0:
            raise RuntimeError(f"kyodo init failed: {init.stderr[-2000:]}")
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "kyodo",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
            ],
            stdout=self._log,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            env=_chat_env(),
            start_new_session=True,  # Ctrl-C reaches the bench only; the bench stops the server
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.log_tail()}")
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log_tail(self, chars: int = 3000) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read()[-chars:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> KyodoChat:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.asynccontextmanager
async def database(backend: str, pg_url: str) -> AsyncIterator[str]:
    """A fresh database for one run: a SQLite file in a temp dir, or a new PostgreSQL database."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kyodo-chat-bench-") as folder:
            yield f"sqlite+aiosqlite:///{folder}/kyodo.db"
        return
    import asyncpg

    name = f"kyodo_bench_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(pg_url, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(pg_url)
    try:
        yield f"postgresql+asyncpg://{parts.netloc}/{name}"
    finally:
        conn = await asyncpg.connect(pg_url, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
