"""FreeTAKServer 2.2.1 from PyPI in its own venv, every listener on loopback."""

from __future__ import annotations

import shutil
import time

from ..procs import LOOPBACK, free_port, port_in_use
from .base import PEERS_DIR, WORK_DIR, Managed, ServerError, ensure_venv, find_python, peer_env

FTS_REQUIREMENTS = (
    "FreeTAKServer==2.2.1",
    # Newer OpenTelemetry releases crash FreeTAKServer's CoT services (DESIGN.md §5).
    "opentelemetry-api==1.24.0",
    "opentelemetry-sdk==1.24.0",
)


FTS_FIXED_PORTS = (19030, 19031, 19032, 19033, 19034)  # its ZeroMQ routing proxy, not configurable


FTS_YAML = """\
System:
  FTS_CONNECTION_MESSAGE: ""
Addresses:
  FTS_COT_PORT: {cot}
  FTS_SSLCOT_PORT: {sslcot}
  FTS_DP_ADDRESS: 127.0.0.1
  FTS_USER_ADDRESS: 127.0.0.1
  FTS_API_PORT: {api}
  FTS_FED_PORT: {fed}
  FTS_API_ADDRESS: 127.0.0.1
"""


class FreeTAKServer(Managed):
    """FreeTAKServer 2.2.1 from PyPI in bench/work/fts, every listener on 127.0.0.1.

    It keeps its data under a hard-coded /opt/fts: it runs in a private mount namespace where
    bench/work/fts-opt is mounted on /opt, so nothing is written outside bench/work."""

    name = "FreeTAKServer 2.2.1"

    def start(self) -> None:
        python = ensure_venv("fts", find_python((3, 11), "FreeTAKServer"), FTS_REQUIREMENTS)
        busy = [p for p in FTS_FIXED_PORTS if port_in_use(p)]
        if busy:
            raise ServerError(f"FreeTAKServer's fixed ZeroMQ ports are in use: {busy}")
        if shutil.which("unshare") is None:
            raise ServerError("`unshare` (util-linux) is needed to keep FreeTAKServer's /opt/fts")
        opt = WORK_DIR / "fts-opt"
        shutil.rmtree(opt, ignore_errors=True)
        (opt / "fts").mkdir(parents=True)
        self.port = free_port()
        ports = {k: free_port() for k in ("sslcot", "api", "fed", "dp", "ssldp")}
        (opt / "fts" / "FTSConfig.yaml").write_text(
            FTS_YAML.format(
                cot=self.port, sslcot=ports["sslcot"], api=ports["api"], fed=ports["fed"]
            )
        )
        launch = [
            str(python),
            str(PEERS_DIR / "fts_launch.py"),
            *("-CoTIP", LOOPBACK, "-CoTPort", str(self.port)),
            *("-SSLCoTIP", LOOPBACK, "-SSLCoTPort", str(ports["sslcot"])),
            *("-DataPackageIP", LOOPBACK, "-DataPackagePort", str(ports["dp"])),
            *("-SSLDataPackageIP", LOOPBACK, "-SSLDataPackagePort", str(ports["ssldp"])),
            *("-RestAPIIP", LOOPBACK, "-RestAPIPort", str(ports["api"])),
            *("-AutoStart", "True"),
        ]
        script = 'mount --bind "$1" /opt && shift && exec "$@"'
        argv = ["unshare", "--mount", "sh", "-c", script, "sh", str(opt), *launch]
        self.spawn("FreeTAKServer", argv, peer_env({"FTS_FIRST_START": "false"}), WORK_DIR)
        self.wait_port(self.port, 120)
        time.sleep(3)  # its routing workers come up after the CoT port
        self.processes_note = "Python multiprocessing + ZeroMQ, SQLite"
