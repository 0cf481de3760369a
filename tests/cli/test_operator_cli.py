"""The operator's commands (`kyodo init|serve|user|audit`), each run as a real process."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.live import ADMIN_PASSWORD, LiveServer, kyodo, live_server

pytestmark = pytest.mark.slow  # every test runs `kyodo` as a real process


def test_init_refuses_to_guess_a_password_without_input(database_url: str) -> None:
    result = kyodo("init", "--no-input", "--database-url", database_url)
    assert result.returncode == 2
    assert "no admin password" in result.stderr


def test_init_creates_the_first_admin_once(database_url: str) -> None:
    first = kyodo(
        "init",
        "--no-input",
        "--database-url",
        database_url,
        env={"KYODO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    assert first.returncode == 0, first.stderr
    assert "admin 'admin' created" in first.stdout
    again = kyodo("init", "--no-input", "--database-url", database_url)
    assert again.returncode == 0 and "no admin created" in again.stdout


def test_user_commands_add_list_grant_and_change_clearance(database_url: str) -> None:
    db = ("--database-url", database_url)
    assert kyodo("init", "--no-input", "--admin-password", ADMIN_PASSWORD, *db).returncode == 0
    added = kyodo(
        "user",
        "add",
        "sato",
        "--name",
        "Ken Sato",
        "--name-ja",
        "佐藤 健",
        "--nation",
        "JPN",
        "--clearance",
        "GOKUHI",
        "--password",
        "long enough password",
        *db,
    )
    assert added.returncode == 0, added.stderr
    assert "JPN GOKUHI" in added.stdout
    bad = kyodo(
        "user",
        "add",
        "x",
        "--name",
        "X",
        "--nation",
        "XYZ",
        "--clearance",
        "SECRET",
        "--no-password",
        *db,
    )
    assert bad.returncode == 2 and "ISO 3166" in bad.stderr
    granted = kyodo("user", "grant", "sato", "SDS", *db)
    assert granted.returncode == 0 and "SDS" in granted.stdout
    lowered = kyodo("user", "set-clearance", "sato", "HI", *db)
    assert lowered.returncode == 0 and "HI" in lowered.stdout
    unknown = kyodo("user", "set-clearance", "sato", "MEGA SECRET", *db)
    assert unknown.returncode == 2 and "unknown clearance" in unknown.stderr
    listed = kyodo("user", "list", *db)
    assert listed.returncode == 0 and "sato" in listed.stdout and "HI" in listed.stdout
    missing = kyodo("user", "grant", "nobody", "SI", *db)
    assert missing.returncode == 2 and "no person" in missing.stderr


def test_audit_export_writes_the_chain_and_is_itself_audited(
    database_url: str, tmp_path: Path
) -> None:
    db = ("--database-url", database_url)
    assert kyodo("init", "--no-input", "--admin-password", ADMIN_PASSWORD, *db).returncode == 0
    out = tmp_path / "audit.jsonl"
    exported = kyodo("audit", "export", "--output", str(out), *db)
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert records[0]["seq"] == 1 and records[0]["action"] == "person.create"
    assert records[-1]["action"] == "audit.export"
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(records))
    assert kyodo("audit", "verify", *db).returncode == 0


@pytest.mark.slow
def test_serve_runs_a_real_server_with_docs(shared_server: LiveServer) -> None:
    server = shared_server  # `kyodo init` then `kyodo serve`, shared with other tests
    assert httpx.get(f"{server.url}/api/v1/health").json()["database"] == "ok"
    spec = httpx.get(f"{server.url}/api/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert httpx.get(f"{server.url}/api/docs").status_code == 200
    token = server.admin_token()
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["roles"] == ["admin"]


def test_token_commands_list_by_id_and_revoke_what_a_token_minted(database_url: str) -> None:
    with live_server(database_url) as server:
        parent = server.admin_token()
        child = httpx.post(
            f"{server.url}/api/v1/auth/tokens",
            json={"name": "child", "scopes": ["read"]},
            headers={"Authorization": f"Bearer {parent}"},
            timeout=10,
        )
        assert child.status_code == 201, child.text
        listed = kyodo("token", "list", "admin", "--database-url", database_url)
        assert listed.returncode == 0, listed.stderr
        assert child.json()["id"] in listed.stdout and "child" in listed.stdout
        assert parent not in listed.stdout and child.json()["token"] not in listed.stdout
        parent_id = child.json()["parent_id"]
        revoked = kyodo("token", "revoke", parent_id, "--database-url", database_url)
        assert revoked.returncode == 0, revoked.stderr
        assert "revoked 2 token(s)" in revoked.stdout
        missing = kyodo("token", "revoke", "0000", "--database-url", database_url)
        assert missing.returncode == 2
        # The server reads sessions through a short cache (read_cache_seconds): within it...
        for token in (parent, child.json()["token"]):
            for _ in range(40):
                me = httpx.get(
                    f"{server.url}/api/v1/me",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                if me.status_code == 401:
                    break
                time.sleep(0.25)
            assert me.status_code == 401
