"""OpenTAKServer from PyPI in its own venv, on the machine's RabbitMQ and PostgreSQL."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from typing import TYPE_CHECKING

from ..procs import free_port, port_in_use
from .base import (
    PEERS_DIR,
    PG_ARGS,
    WORK_DIR,
    Managed,
    ServerError,
    ensure_venv,
    find_python,
    peer_env,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

OTS_REQUIREMENTS = ("opentakserver",)
OTS_DATABASE = "kyodo_bench_ots"


OTS_CONFIG = """\
SQLALCHEMY_DATABASE_URI: postgresql+psycopg://postgres@127.0.0.1:5432/{database}
OTS_DATA_FOLDER: {data}
OTS_CA_FOLDER: {data}/ca
UPLOAD_FOLDER: {data}/uploads
OTS_LISTENER_ADDRESS: 127.0.0.1
OTS_LISTENER_PORT: {api}
OTS_STREAMING_INTERFACE: 127.0.0.1
OTS_TCP_STREAMING_PORT: {cot}
OTS_SSL_STREAMING_PORT: {ssl}
OTS_UDP_PORT: {udp}
OTS_RABBITMQ_SERVER_ADDRESS: 127.0.0.1
OTS_ENABLE_PLUGINS: false
OTS_MEDIAMTX_ENABLE: false
OTS_ENABLE_MESHTASTIC: false
OTS_ENABLE_EMAIL: false
"""


def _psql(sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
    if shutil.which("psql") is None:
        raise ServerError("psql not found (OpenTAKServer needs PostgreSQL at 127.0.0.1:5432)")
    return subprocess.run(  # noqa: S603
        ["psql", *PG_ARGS, "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class OpenTAKServer(Managed):
    """OpenTAKServer from PyPI in bench/work/ots: its Flask app, cot_parser and the TCP
    eud_handler, on the machine's RabbitMQ (127.0.0.1:5672) and PostgreSQL + PostGIS
    (127.0.0.1:5432, a database of its own, dropped afterwards)."""

    name = "OpenTAKServer"

    def __init__(self) -> None:
        super().__init__()
        self.queues: set[str] = set()
        self.python: Path | None = None

    def start(self) -> None:
        self.python = ensure_venv("ots", find_python((3, 12), "OpenTAKServer"), OTS_REQUIREMENTS)
        version = subprocess.run(  # noqa: S603
            [str(self.python), "-c", "import opentakserver; print(opentakserver.__version__)"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=peer_env(),
        )
        self.name = f"OpenTAKServer {version.stdout.strip()}".strip()
        if not port_in_use(5672):
            raise ServerError("RabbitMQ is not listening on 127.0.0.1:5672")
        available = _psql("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        if available.returncode != 0:
            raise ServerError(f"PostgreSQL at 127.0.0.1:5432: {available.stderr.strip()}")
        if available.stdout.strip() != "1":
            raise ServerError(
                "PostgreSQL has no PostGIS extension, which OpenTAKServer's migrations need "
                "(Debian: apt-get install postgresql-15-postgis-3)"
            )
        for sql in (f"DROP DATABASE IF EXISTS {OTS_DATABASE}", f"CREATE DATABASE {OTS_DATABASE}"):
            done = _psql(sql)
            if done.returncode != 0:
                raise ServerError(f"{sql}: {done.stderr.strip()}")
        done = _psql("CREATE EXTENSION IF NOT EXISTS postgis", OTS_DATABASE)
        if done.returncode != 0:
            raise ServerError(f"CREATE EXTENSION postgis: {done.stderr.strip()}")
        home = WORK_DIR / "ots-home"
        shutil.rmtree(home, ignore_errors=True)
        data = home / "ots"
        data.mkdir(parents=True)
        self.port = free_port()
        api = free_port()
        (data / "config.yml").write_text(
            OTS_CONFIG.format(
                database=OTS_DATABASE,
                data=data,
                api=api,
                cot=self.port,
                ssl=free_port(),
                udp=free_port(),
            )
        )
        env = peer_env({"HOME": str(home), "OTS_DATA_FOLDER": str(data)})
        bin_dir = self.python.parent
        # The Flask app migrates the database and creates the CA; then the CoT parser and the
        # TCP handler, which forks a process per client.
        self.spawn("opentakserver", [str(bin_dir / "opentakserver")], env, home)
        self.wait_port(api, 180)
        self.spawn("cot_parser", [str(bin_dir / "cot_parser")], env, home)
        self.spawn("eud_handler", [str(bin_dir / "eud_handler")], env, home)
        self.wait_port(self.port, 60)
        time.sleep(3)
        self.processes_note = (
            "Flask app + cot_parser + eud_handler forking a process per client; plus the "
            "machine's RabbitMQ and PostgreSQL, not counted in its memory"
        )

    def names_used(self, names: Iterable[str]) -> None:
        self.queues.update(names)
        self._delete_queues()  # also before the run: a crashed earlier run may have left them

    def _delete_queues(self) -> None:
        if not self.queues or self.python is None:
            return
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            done = subprocess.run(  # noqa: S603
                [str(self.python), str(PEERS_DIR / "ots_rabbit_cleanup.py")],
                input="\n".join(sorted(self.queues)),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                env=peer_env(),
            )
            if done.returncode != 0:
                self.notes.append(f"RabbitMQ queue clean-up failed: {done.stderr[-300:]}")

    def cleanup(self) -> None:
        if self.queues:
            # Its work queue keeps what the parser had not done yet (after a step it did not
            # keep up with): emptied, not deleted (deleting it broke the next start).
            self.queues.add("purge:cot_parser")
        self._delete_queues()
        with contextlib.suppress(ServerError, subprocess.SubprocessError, OSError):
            _psql(f"DROP DATABASE IF EXISTS {OTS_DATABASE} WITH (FORCE)")
