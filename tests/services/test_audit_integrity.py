"""The audit chain survives concurrent writers and `kyodo audit verify` catches tampering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from kyodo.errors import PermissionDenied
from kyodo.services import audit
from kyodo.services.actor import Actor, person_actor
from kyodo.services.context import ServiceContext
from kyodo.services.ports import AuditQuery
from kyodo.store.sql.database import SqlDatabase

from tests.support.factories import add_org, add_person
from tests.support.live import ADMIN_PASSWORD, kyodo, live_server


async def _some_history(ctx: ServiceContext, operator: Actor) -> None:
    for n in range(4):
        await add_org(ctx, operator, f"org{n}")
    await add_person(ctx, operator, "alice")


async def _sql(ctx: ServiceContext, statement: str) -> None:
    assert isinstance(ctx.db, SqlDatabase)
    async with ctx.db.engine.begin() as conn:
        await conn.execute(text(statement))


def _verify(url: str, *args: str) -> tuple[int, str]:
    # A real process: the CLI runs its own event loop, as an operator would.
    result = subprocess.run(
        [sys.executable, "-m", "kyodo", "audit", "verify", "--database-url", url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow  # `kyodo audit verify` as a real process
async def test_verify_passes_on_an_untouched_log(
    ctx: ServiceContext, operator: Actor, database_url: str
) -> None:
    await _some_history(ctx, operator)
    report = await audit.verify_audit(ctx, operator)
    assert report.ok and report.records >= 5
    code, output = _verify(database_url)
    assert code == 0 and "intact" in output


@pytest.mark.slow  # `kyodo audit verify` as a real process
@pytest.mark.parametrize(
    ("tamper", "seq"),
    [
        ("UPDATE audit_log SET actor = 'nobody' WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 2", 2),
        ("UPDATE audit_log SET details = '{}' WHERE seq = 4", 4),
        ("UPDATE audit_log SET seq = 100 WHERE seq = 3", 3),
    ],
    ids=["edited", "deleted", "details-edited", "moved"],
)
async def test_verify_reports_the_first_broken_record(
    ctx: ServiceContext, operator: Actor, database_url: str, tamper: str, seq: int
) -> None:
    await _some_history(ctx, operator)
    await _sql(ctx, tamper)
    report = await audit.verify_audit(ctx, operator)
    assert not report.ok and report.first_broken == seq, report
    code, output = _verify(database_url)
    assert code == 1 and f"record {seq}" in output


async def test_swapping_two_records_is_caught(ctx: ServiceContext, operator: Actor) -> None:
    await _some_history(ctx, operator)
    await _sql(ctx, "UPDATE audit_log SET seq = 1000 WHERE seq = 2")
    await _sql(ctx, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    await _sql(ctx, "UPDATE audit_log SET seq = 3 WHERE seq = 1000")
    report = await audit.verify_audit(ctx, operator)
    assert not report.ok and report.first_broken == 2


APPENDER = textwrap.dedent(
    """
    import asyncio, sys
    from kyodo.audit.chain import AuditEntry
    from kyodo.store.sql.database import SqlDatabase

    async def main(url, name, count):
        db = SqlDatabase(url)
        for n in range(count):
            async with db.transaction() as tx:
                await tx.audit.append(AuditEntry(name, "test.append", "test", str(n)))
        await db.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


@pytest.mark.slow
async def test_two_processes_appending_at_once_keep_one_chain(
    ctx: ServiceContext, operator: Actor, database_url: str
) -> None:
    count = 60
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", APPENDER, database_url, f"proc{i}", str(count)
        )
        for i in range(2)
    ]
    for proc in procs:
        assert await asyncio.wait_for(proc.wait(), timeout=120) == 0
    report = await audit.verify_audit(ctx, operator)
    assert report.ok, report
    async with ctx.db.transaction(write=False) as tx:
        records = [r async for r in tx.audit.walk()]
    assert len(records) == 2 * count
    assert {r.entry.actor for r in records} == {"proc0", "proc1"}


@pytest.mark.slow
def test_two_servers_on_one_postgresql_keep_one_chain(database_url: str) -> None:
    """Two real `kyodo serve` processes take logins at once; the chain stays unbroken."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several server processes share a database only on PostgreSQL")
    with live_server(database_url) as first, live_server(database_url) as second:

        def hammer(url: str) -> int:
            ok = 0
            with httpx.Client(base_url=url, timeout=30) as http:
                for n in range(15):
                    password = ADMIN_PASSWORD if n % 2 else "wrong password!"
                    response = http.post(
                        "/api/v1/auth/login", json={"username": "admin", "password": password}
                    )
                    ok += response.status_code in (200, 401, 429)
            return ok

        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(hammer, [first.url, second.url, first.url, second.url]))
    assert results == [15, 15, 15, 15]
    verify = kyodo("audit", "verify", "--database-url", database_url)
    assert verify.returncode == 0, verify.stderr
    assert "intact" in verify.stdout


async def test_only_a_security_officer_may_verify(ctx: ServiceContext, operator: Actor) -> None:
    """Verifying reads the whole log's shape: the same role as reading it, and the refusal is
    audited."""
    await add_org(ctx, operator, "org0")
    bob = person_actor(await add_person(ctx, operator, "bob"), "api")
    with pytest.raises(PermissionDenied):
        await audit.verify_audit(ctx, bob)
    page = await audit.list_audit(ctx, operator, AuditQuery(action="audit.verify"))
    assert [(r.entry.actor, r.entry.decision) for r in page.items] == [(bob.audit_name, "deny")]
    assert (await audit.verify_audit(ctx, operator)).ok


@pytest.mark.slow  # `kyodo audit verify` as a real process
async def test_the_cli_prints_the_head_and_an_anchor_catches_a_cut_off_tail(
    ctx: ServiceContext, operator: Actor, database_url: str
) -> None:
    await _some_history(ctx, operator)
    code, output = _verify(database_url)
    assert code == 0
    head = output.split("head: ")[1].split()[0]
    seq, _, digest = head.partition(":")
    assert int(seq) >= 5 and len(digest) == 64
    code, output = _verify(database_url, "--anchor", head)
    assert code == 0, output
    # The newest records deleted: the chain that is left is consistent, the anchor is past it.
    await _sql(ctx, "DELETE FROM audit_log WHERE seq >= 3")
    code, output = _verify(database_url, "--anchor", head)
    assert code == 1 and "were deleted" in output, output
    code, output = _verify(database_url, "--anchor", "twelve")
    assert code == 2 and "expected SEQ:HASH" in output
