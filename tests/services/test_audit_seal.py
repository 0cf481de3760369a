"""Keyed checkpoints catch what the bare chain cannot, and `verify --deep` checks the stored
messages and memberships against the records that made them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from kyodo.api.app import create_app
from kyodo.audit.chain import AuditRecord, seal
from kyodo.audit_files import CheckpointFile, SealFileError, create_key, ensure_key, load_key
from kyodo.labels import parse_marking
from kyodo.services import audit, messages, nets
from kyodo.services.actor import Actor, person_actor
from kyodo.services.audit_seal import AuditSealer
from kyodo.services.context import ServiceContext
from kyodo.settings import Settings
from kyodo.store.sql.database import SqlDatabase

from tests.support.factories import add_org, add_person
from tests.support.wait import wait_for


async def _sql(ctx: ServiceContext, statement: str, **params: object) -> None:
    assert isinstance(ctx.db, SqlDatabase)
    async with ctx.db.engine.begin() as conn:
        await conn.execute(text(statement), params)


async def _records(ctx: ServiceContext) -> list[AuditRecord]:
    async with ctx.db.transaction(write=False) as tx:
        return [r async for r in tx.audit.walk()]


async def _head(ctx: ServiceContext) -> int:
    async with ctx.db.transaction(write=False) as tx:
        return (await tx.audit.head())[0]


class Seal:
    def __init__(self, ctx: ServiceContext, folder: Path) -> None:
        self.ctx = ctx
        self.log = CheckpointFile(folder / "checkpoints.jsonl")
        self.key = ensure_key(folder / "seal.key", self.log)
        self.sealer = AuditSealer(ctx, self.key, self.log)

    async def deep(self, operator: Actor) -> audit.DeepReport:
        return await audit.verify_audit_deep(
            self.ctx, operator, self.log.read(), self.key.public_key()
        )


@pytest.fixture
def sealed(ctx: ServiceContext, tmp_path: Path) -> Seal:
    return Seal(ctx, tmp_path)


async def _chat(ctx: ServiceContext, operator: Actor) -> tuple[Actor, str, int]:
    """A net with a member and a message: (its owner, the net id, the message seq)."""
    owner = person_actor(await add_person(ctx, operator, "owner"), "api")
    member = await add_person(ctx, operator, "member")
    net = await nets.create_net(
        ctx, owner, name="ops", ceiling=parse_marking("SECRET//REL TO USA, JPN", ctx.registry)
    )
    await nets.add_member(ctx, owner, net.id, member.id)
    posted = await messages.post_message(
        ctx,
        owner,
        net.id,
        "lunch at 1200",
        label=parse_marking("CONFIDENTIAL//REL TO USA, JPN", ctx.registry),
    )
    await messages.edit_message(ctx, owner, posted.message.seq, "lunch at 1230")
    return owner, net.id, posted.message.seq


async def test_an_untouched_log_passes(ctx: ServiceContext, operator: Actor, sealed: Seal) -> None:
    await _chat(ctx, operator)
    assert await sealed.sealer.seal() is not None
    report = await sealed.deep(operator)
    assert report.ok, report
    assert report.checkpoints == 1 and report.chain.records == len(await _records(ctx))


async def test_a_tail_cut_below_a_checkpoint_is_caught_without_an_anchor(
    ctx: ServiceContext, operator: Actor, sealed: Seal
) -> None:
    for n in range(5):
        await add_org(ctx, operator, f"org{n}")
    checkpoint = await sealed.sealer.seal()
    assert checkpoint is not None and checkpoint.seq == 5
    await _sql(ctx, "DELETE FROM audit_log WHERE seq >= 4")
    assert (await audit.verify_audit(ctx, operator)).ok  # the bare chain cannot tell
    report = await sealed.deep(operator)
    assert not report.ok and "deleted" in report.chain.reason, report
    # ...and the sealer refuses to bless the shorter log.
    assert await sealed.sealer.seal() is None


async def test_an_edit_re_sealed_through_the_chain_is_caught(
    ctx: ServiceContext, operator: Actor, sealed: Seal
) -> None:
    for n in range(5):
        await add_org(ctx, operator, f"org{n}")
    await sealed.sealer.seal()
    # The attacker edits record 2 and re-hashes every record after it: a consistent chain.
    records = await _records(ctx)
    prev = records[0].hash
    for record in records[1:]:
        entry = record.entry
        if record.seq == 2:
            entry = replace(entry, details={**entry.details, "name": "forged"})
        new = seal(record.seq, record.time, entry, prev)
        await _sql(
            ctx,
            "UPDATE audit_log SET details = :d, prev_hash = :p, hash = :h WHERE seq = :s",
            d=json.dumps(new.entry.details, ensure_ascii=False, sort_keys=True),
            p=new.prev_hash,
            h=new.hash,
            s=record.seq,
        )
        prev = new.hash
    assert (await audit.verify_audit(ctx, operator)).ok  # the bare chain cannot tell
    report = await sealed.deep(operator)
    assert not report.ok and report.chain.first_broken == 5, report
    # The sealer will not seal over it either (it checks from its last checkpoint on).
    await add_org(ctx, operator, "org-after")
    assert await sealed.sealer.seal() is None


async def test_a_downgraded_message_passes_the_deep_check(
    ctx: ServiceContext, operator: Actor, sealed: Seal
) -> None:
    owner, net_id, seq = await _chat(ctx, operator)
    chief = await add_person(
        ctx, operator, "chief", clearance="TOP SECRET", roles=("member", "may_downgrade")
    )
    await nets.add_member(ctx, owner, net_id, chief.id)
    await messages.downgrade_message(
        ctx,
        person_actor(chief, "api"),
        seq,
        parse_marking("UNCLASSIFIED", ctx.registry),
        "Released after review, ref 25-117.",
    )
    await sealed.sealer.seal()
    report = await sealed.deep(operator)
    assert report.ok, report.problems


async def test_replies_rolled_up_by_a_raise_pass_the_deep_check(
    ctx: ServiceContext, operator: Actor, sealed: Seal
) -> None:
    owner, net_id, seq = await _chat(ctx, operator)
    await messages.post_message(
        ctx,
        owner,
        net_id,
        "see you there",
        label=parse_marking("CONFIDENTIAL//REL TO USA, JPN", ctx.registry),
        reply_to=seq,
    )
    await messages.edit_message(
        ctx,
        owner,
        seq,
        "lunch at 1230",
        label=parse_marking("SECRET//REL TO USA, JPN", ctx.registry),
    )
    await sealed.sealer.seal()
    report = await sealed.deep(operator)
    assert report.ok, report.problems


async def test_a_label_changed_in_the_database_is_caught(
    ctx: ServiceContext, operator: Actor, sealed: Seal
) -> None:
    _, _, seq = await _chat(ctx, operator)
    await sealed.sealer.seal()
    # Down to another label that exists, in the row and in every version.
    async with ctx.db.transaction(write=False) as tx:
        current = await tx.messages.get(seq)
    assert isinstance(ctx.db, SqlDatabase)
    async with ctx.db.engine.begin() as conn:
        ids = [row[0] for row in await conn.execute(text("SELECT id FROM labels ORDER BY id"))]
        old = (
            await conn.execute(text("SELECT label_id FROM messages WHERE seq = :s"), {"s": seq})
        ).scalar_one()
    other = next(i for i in ids if i != old)
    await _sql(ctx, "UPDATE messages SET label_id = :l WHERE seq = :s", l=other, s=seq)
    await _sql(
        ctx, "UPDATE message_versions SET label_id = :l WHERE message_seq = :s", l=other, s=seq
    )
    async with ctx.db.transaction(write=False) as tx:
        assert (await tx.messages.get(seq)).label != current.label
    assert (await audit.verify_audit(ctx, operator)).ok
    report = await sealed.deep(operator)
    assert report.chain.ok and not report.ok
    assert any(f"message {seq}" in p and "label" in p for p in report.problems), report


@pytest.mark.parametrize("table", ["messages", "message_versions"])
async def test_a_text_changed_in_the_database_is_caught(
    ctx: ServiceContext, operator: Actor, sealed: Seal, table: str
) -> None:
    _, _, seq = await _chat(ctx, operator)
    await sealed.sealer.seal()
    statement = {
        "messages": "UPDATE messages SET text = 'lunch cancelled' WHERE seq = :s",
        "message_versions": "UPDATE message_versions SET text = 'x' WHERE message_seq = :s",
    }[table]
    await _sql(ctx, statement, s=seq)
    report = await sealed.deep(operator)
    assert any(f"message {seq}" in p and "text" in p for p in report.problems), report


async def test_a_member_added_or_removed_in_the_database_is_caught(
    ctx: ServiceContext, operator: Actor, sealed: Seal
) -> None:
    _, net_id, _ = await _chat(ctx, operator)
    intruder = await add_person(ctx, operator, "intruder")
    await sealed.sealer.seal()
    assert (await sealed.deep(operator)).ok
    await _sql(
        ctx,
        "INSERT INTO net_members (net_id, person_id, role, added_at, last_read) "
        "VALUES (:n, :p, 'member', CURRENT_TIMESTAMP, 0)",
        n=net_id,
        p=intruder.id,
    )
    report = await sealed.deep(operator)
    assert any(intruder.id in p and "no audit record" in p for p in report.problems), report


async def test_a_forged_checkpoint_is_reported(
    ctx: ServiceContext, operator: Actor, sealed: Seal, tmp_path: Path
) -> None:
    await add_org(ctx, operator, "org0")
    await sealed.sealer.seal()
    other = create_key(tmp_path / "other.key")
    forger = AuditSealer(ctx, other, sealed.log)
    await add_org(ctx, operator, "org1")
    assert await forger.seal() is not None
    report = await sealed.deep(operator)
    assert any("does not verify" in p for p in report.problems), report


def test_the_key_is_private_and_never_replaced(tmp_path: Path) -> None:
    log = CheckpointFile(tmp_path / "checkpoints.jsonl")
    path = tmp_path / "keys" / "seal.key"
    key = ensure_key(path, log)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key(path, log).private_bytes_raw() == key.private_bytes_raw()
    with pytest.raises(FileExistsError):
        create_key(path)
    os.chmod(path, 0o640)
    with pytest.raises(SealFileError, match="chmod 600"):
        load_key(path)
    # A lost key is not silently replaced once something has been sealed with it.
    (tmp_path / "checkpoints.jsonl").write_text('{"seq": 1}\n')
    with pytest.raises(SealFileError, match="restore the key"):
        ensure_key(tmp_path / "missing.key", log)


def _cli(url: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KYODO_AUDIT_KEY_FILE": str(folder / "seal.key"),
        "KYODO_AUDIT_CHECKPOINT_FILE": str(folder / "checkpoints.jsonl"),
    }
    return subprocess.run(
        [sys.executable, "-m", "kyodo", *args, "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow  # `kyodo` as a real process
async def test_init_seals_and_verify_deep_catches_a_cut_tail(
    ctx: ServiceContext, operator: Actor, database_url: str, tmp_path: Path
) -> None:
    init = _cli(database_url, tmp_path, "init", "--no-input", "--admin-password", "x" * 16)
    assert init.returncode == 0, init.stderr
    assert stat.S_IMODE((tmp_path / "seal.key").stat().st_mode) == 0o600
    assert (tmp_path / "checkpoints.jsonl").read_text().count("\n") == 1
    ok = _cli(database_url, tmp_path, "audit", "verify", "--deep")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 sealed checkpoint" in ok.stdout
    await _sql(ctx, "DELETE FROM audit_log")
    broken = _cli(database_url, tmp_path, "audit", "verify", "--deep")
    assert broken.returncode == 1 and "deleted" in broken.stdout + broken.stderr


async def test_the_server_seals_while_running_and_at_shutdown(
    ctx: ServiceContext, operator: Actor, settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={
            "audit_key_file": tmp_path / "seal.key",
            "audit_checkpoint_file": tmp_path / "checkpoints.jsonl",
            "audit_checkpoint_seconds": 0.05,
            "cot_port": 0,
            "cot_tls_port": 0,
        }
    )
    app = create_app(settings, context=ctx)
    log = CheckpointFile(tmp_path / "checkpoints.jsonl")
    async with app.router.lifespan_context(app):
        await add_org(ctx, operator, "org0")
        first = await _head(ctx)
        # Sealed while running (T = 0.05 s), however busy the machine.
        await wait_for(lambda: log.read() and log.read()[-1].seq == first)
        assert log.read() and log.read()[-1].seq == first
        await add_org(ctx, operator, "org1")
        await add_org(ctx, operator, "org2")
    assert log.read()[-1].seq == await _head(ctx) > first  # sealed at shutdown, at the latest
    assert stat.S_IMODE((tmp_path / "seal.key").stat().st_mode) == 0o600
