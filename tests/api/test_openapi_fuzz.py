"""Schemathesis fuzzes every operation of the OpenAPI spec on a real server: no 5xx."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live import live_server


@pytest.mark.slow
def test_no_operation_answers_5xx(database_url: str, tmp_path: Path) -> None:
    st = shutil.which("st") or str(Path(sys.executable).parent / "st")
    with live_server(database_url) as server:
        token = server.admin_token()
        result = subprocess.run(
            [
                st,
                "run",
                f"{server.url}/api/openapi.json",
                "--checks",
                "not_a_server_error",
                "--header",
                f"Authorization: Bearer {token}",
                "--max-examples",
                "30",
                "--max-time",
                "45",
                "--workers",
                "1",
                "--seed",
                "2026",
                "--request-timeout",
                "10",
                "--suppress-health-check",
                "all",
                # These would end the fuzzer's own session; they are tested on their own.
                "--exclude-path",
                "/api/v1/auth/logout",
                "--exclude-path",
                "/api/v1/me/password",
                "--exclude-path-regex",
                "/api/v1/people/.*/password",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
