"""`kyodo serve` opens TAK Server's HTTPS ports itself when the CoT TLS files are set."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from kyodo.pki.files import write_pair
from kyodo.pki.issuing import create_ca, create_server_cert

from tests.support.live import free_ports, live_server
from tests.support.wait import wait_until


def test_serve_listens_on_8443_and_8446_with_the_cot_tls_files(
    database_url: str, tmp_path: Path
) -> None:
    ca = create_ca(name="Kyodo Test CA")
    write_pair(ca, tmp_path / "ca", "ca")
    write_pair(create_server_cert(ca, ["127.0.0.1"]), tmp_path / "srv", "server")
    https, enrol = free_ports(2)
    env = {
        "KYODO_COT_TLS_CERT": str(tmp_path / "srv" / "server.pem"),
        "KYODO_COT_TLS_KEY": str(tmp_path / "srv" / "server.key"),
        "KYODO_COT_TLS_CA": str(tmp_path / "ca" / "ca.pem"),
        "KYODO_HTTPS_PORT": str(https),
        "KYODO_HTTPS_ENROL_PORT": str(enrol),
    }
    trust = ssl.create_default_context(cafile=str(tmp_path / "ca" / "ca.pem"))
    with live_server(database_url, env) as server:

        def version() -> httpx.Response | None:
            try:
                return httpx.get(
                    f"https://127.0.0.1:{enrol}/Marti/api/version", verify=trust, timeout=5
                )
            except httpx.TransportError:
                return None

        answer = wait_until(version, timeout=30)
        assert answer.status_code == 200 and answer.text.startswith("Kyodo ")
        with pytest.raises(httpx.TransportError):  # no client certificate: no handshake
            httpx.get(f"https://127.0.0.1:{https}/Marti/api/version", verify=trust, timeout=5)
        assert "https listening" in server.log_text()
