"""What every managed server shares: process groups, logs, loopback checks and peer venvs."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..procs import LOOPBACK, die_with_parent, port_in_use, process_tree

if TYPE_CHECKING:
    from collections.abc import Iterable

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
WORK_DIR = BENCH / "work"  # git-ignored: the peers' venvs, data and logs
PEERS_DIR = BENCH / "peers"
PG_ARGS = ("-h", LOOPBACK, "-p", "5432", "-U", "postgres")


# Some peers fetch things from the internet at start-up (OpenTAKServer downloads icon sets): an
# unreachable loopback proxy makes those fail at once on this machine instead of going out.
NO_INTERNET = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


class ServerError(RuntimeError):
    """A server could not be installed or started; the message says why."""


class Managed:
    """A set of process groups started by the bench; `stop` ends every one of them."""

    name = "server"
    processes_note = ""
    floor = False  # a do-nothing server Kyodo's figures are compared with

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[tuple[str, IO[str]]] = []
        self.host = LOOPBACK
        self.port = 0
        self.notes: list[str] = []
        self.idle_cpu = 0.0  # cores used at idle, measured after start

    def start(self) -> None:
        raise NotImplementedError

    def spawn(self, label: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        self.logs.append((label, log))
        self.procs.append(
            subprocess.Popen(  # noqa: S603 - our own argv
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a process group of its own: stop() ends all of it
                preexec_fn=die_with_parent,
            )
        )

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def exited(self) -> str:
        gone = [
            f"{label} (exit status {proc.returncode})"
            for (label, _), proc in zip(self.logs, self.procs, strict=False)
            if proc.poll() is not None
        ]
        return "exited: " + ", ".join(gone)

    def log_tail(self, chars: int = 2500) -> str:
        parts = []
        for label, log in self.logs:
            with contextlib.suppress(ValueError, OSError):
                log.flush()
                log.seek(0)
                parts.append(f"--- {label}\n{log.read()[-chars:]}")
        return "\n".join(parts)

    def wait_port(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_in_use(port):
            if not self.alive():
                raise ServerError(f"{self.name} exited while starting:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name}: port {port} not open after {timeout:.0f} s")
            time.sleep(0.25)

    def check_loopback_only(self) -> None:
        """Every TCP listener of the server's processes is on 127.0.0.1 / ::1."""
        inodes: set[str] = set()
        for pid in process_tree(self.pids):
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:["):
                            inodes.add(link[8:-1])
        exposed = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    cols = line.split()
                    if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                        address, port = cols[1].split(":")
                        if address not in ("0100007F", "00000000000000000000000001000000"):
                            exposed.append(f"{address}:{int(port, 16)}")
        if exposed:
            raise ServerError(f"{self.name} listens beyond loopback: {', '.join(exposed)}")

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        for _, log in self.logs:
            with contextlib.suppress(OSError):
                log.close()
        self.procs.clear()
        self.logs.clear()
        self.cleanup()

    def cleanup(self) -> None:
        """Anything besides processes to undo (databases, queues)."""

    def names_used(self, names: Iterable[str]) -> None:
        """The uids and callsigns the bench's clients used (for servers that keep state)."""


def peer_env(extra: dict[str, str] | None = None, *, offline: bool = True) -> dict[str, str]:
    """The environment for a peer's process: ours without Kyodo's or a venv's variables, and
    (`offline`, everything but installing from PyPI) the dead proxy of NO_INTERNET."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KYODO_", "VIRTUAL_ENV", "PYTHON", "FTS_", "OTS_"))
    }
    if offline:
        env.update(NO_INTERNET)
    env.update(extra or {})
    return env


def ensure_venv(name: str, python: str, requirements: tuple[str, ...]) -> Path:
    """bench/work/<name>: a venv with `requirements` from PyPI; installed once, reused."""
    venv = WORK_DIR / name
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    interpreter = venv / "bin" / "python"
    if stamp.exists() and stamp.read_text() == wanted and interpreter.exists():
        return interpreter
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    print(f"installing {', '.join(requirements)} into {venv} …", flush=True)
    steps = [
        [python, "-m", "venv", str(venv)],
        [str(interpreter), "-m", "pip", "install", "-q", "--upgrade", "pip"],
        [str(interpreter), "-m", "pip", "install", "-q", *requirements],
    ]
    for argv in steps:
        done = subprocess.run(  # noqa: S603
            # The one step that goes out: pip fetches from PyPI (the package registry).
            argv,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
            env=peer_env(offline=False),
        )
        if done.returncode != 0:
            raise ServerError(
                f"{' '.join(argv[:5])} failed:\n{(done.stderr or done.stdout)[-2000:]}"
            )
    stamp.write_text(wanted)
    return interpreter


def find_python(minimum: tuple[int, int], who: str) -> str:
    """An interpreter at least `minimum`: `python3.X` on PATH (pyenv's shims fail for versions
    not selected, so each candidate is tried), then pyenv's installed versions."""
    candidates = [shutil.which(f"python3.{m}") for m in range(minimum[1], 16)]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for root in dict.fromkeys((pyenv, Path("/root/.pyenv/versions"))):
        for m in range(minimum[1], 16):
            candidates += sorted(glob.glob(f"{root}/3.{m}*/bin/python3.{m}"))
    candidates += sorted(glob.glob("/usr/bin/python3.1[2-9]")) if minimum >= (3, 12) else []
    check = f"import sys; sys.exit(0 if sys.version_info >= {minimum!r} else 1)"
    for candidate in dict.fromkeys(c for c in candidates if c):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(  # noqa: S603
                [candidate, "-c", check], capture_output=True, check=False, timeout=30
            )
            if done.returncode == 0:
                return candidate
    wanted = f"{minimum[0]}.{minimum[1]}"
    raise ServerError(
        f"skipped: {who} needs Python ≥ {wanted} and none was found (tried python3.{minimum[1]}"
        f"+ on PATH and {pyenv}/3.{minimum[1]}*/bin); install one (e.g. `pyenv install "
        f"{wanted}`) to measure it"
    )
