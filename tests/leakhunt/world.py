"""Shared pieces of the leak hunt: strategies, the fault-injecting database, known-bug flags,
a migrated SQLite template, and raw read-back of what is stored (bypassing every cache)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kyodo.errors import Unavailable
from kyodo.labels import CategoryKind, Label
from kyodo.policy import Subject, may_read
from kyodo.scheme_files import default_registry
from kyodo.store.sql import tables

REGISTRY = default_registry()
NATIONS = ("USA", "JPN", "AUS")
COMPARTMENTS = ("SI", "TK", "SDS")  # SDS: JPN 特定秘密
CLEARANCES = {
    "USA": ("UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"),
    "AUS": ("UNCLASSIFIED", "CONFIDENTIAL", "SECRET", "TOP SECRET"),
    "JPN": ("UNCLASSIFIED", "HI", "GOKUHI", "KIMITSU"),
}
ROLES = ("member", "admin", "security_officer", "records_officer")
OVERSEERS = frozenset({"admin", "security_officer", "records_officer"})
WORDS = ("alpha", "bravo", "kilo", "lima", "tango", "zulu", "さくら", "ふじ")

# ---- the checks, named after the leak each one found (all on; KYODO_LEAKHUNT_SKIP=a,b turns
# named ones off while a regression is being looked at) ----

KNOWN_BUGS = {
    # The records export carried every version of a readable message, also earlier versions
    # the officer may not read.
    "export_versions": "records export leaks earlier versions the reader may not read",
    # edit_message let the author give a lower label (also to a reply, below its original).
    "edit_downgrade": "edits can lower a label (also a reply's, below what it answers)",
    # Admins / security / records officers who are not members read a net's name, labels and
    # members whatever its entry label.
    "overseer_nets": "overseer roles can read names/members of nets above their clearance",
    # LabelRows cached label -> id even when the transaction that inserted the row rolled
    # back; the id was then reused for another label and the first was stored as the second.
    "label_id_cache": "a label-id cache maps a label to the wrong row after a rollback",
    # report_track upserted by uid: a reporter who cannot read a track replaced it (and its
    # label) with theirs.
    "track_hijack": "track reports by uid can hijack a track of a higher label",
    # Some refusals raised PermissionDenied/NotFound without a deny record.
    "unaudited_refusals": "some refusals leave no deny record in the audit log",
    # list_audit gave a security officer every record, also those labelled above them.
    "audit_listing": "the audit listing shows security officers records above their clearance",
    # POST /guard/check named members whose person record the caller may not read.
    "guard_recipients": "the guard's recipients name people whose records the caller may not read",
}


def _enabled() -> frozenset[str]:
    skipped = os.environ.get("KYODO_LEAKHUNT_SKIP", "")
    return frozenset(KNOWN_BUGS) - {n.strip() for n in skipped.split(",") if n.strip()}


CHECKS = _enabled()


def check(bug: str) -> bool:
    """Whether the check that finds `bug` is on (all are, unless KYODO_LEAKHUNT_SKIP names it)."""
    assert bug in KNOWN_BUGS, bug
    return bug in CHECKS


def log_finding(bug: str, text: str) -> None:  # bug: a KNOWN_BUGS key, or "stats"
    """Where a check is skipped, what it would have reported (KYODO_LEAKHUNT_LOG=file collects)."""
    path = os.environ.get("KYODO_LEAKHUNT_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{bug}: {text}\n")


# ---- run length ----------------------------------------------------------------------------

EXAMPLES = int(os.environ.get("KYODO_LEAKHUNT_EXAMPLES", "100"))
STEPS = int(os.environ.get("KYODO_LEAKHUNT_STEPS", "30"))


def hunt_settings(examples: int = EXAMPLES, steps: int = STEPS) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        print_blob=True,
    )


# ---- strategies ----------------------------------------------------------------------------


def _at_level(policy: str, level_id: str, rank: int) -> st.SearchStrategy[Label]:
    scheme = REGISTRY.scheme(policy)
    cats = [
        c.id
        for c in scheme.categories
        if c.kind is CategoryKind.RESTRICTIVE and c.id in COMPARTMENTS and c.allowed_at(rank)
    ]
    rel = st.one_of(
        st.none(),  # the scheme's default (NOFORN / 日本限り for classified)
        st.lists(st.sampled_from(NATIONS), min_size=1, max_size=3, unique=True),
    )
    restrictive = st.frozensets(st.sampled_from(cats), max_size=2) if cats else st.just(frozenset())
    return st.builds(
        partial(REGISTRY.make_label, policy, level_id),
        restrictive=restrictive,
        releasable_to=rel,
    )


RANDOM_LABELS: st.SearchStrategy[Label] = st.one_of(
    [
        _at_level(policy, level.id, level.rank)
        for policy in ("USA", "JPN")
        for level in REGISTRY.scheme(policy).levels
    ]
)
# Markings of a combined HQ, so that nets fill up with members and messages (random labels
# alone are mostly unreadable to most people).
COMMON_MARKINGS = (
    "UNCLASSIFIED",
    "CONFIDENTIAL//REL TO USA, JPN",
    "SECRET//REL TO USA, JPN",
    "SECRET//REL TO USA, JPN, AUS",
    "SECRET//NOFORN",
    "SECRET//SI//REL TO USA, JPN",
    "TOP SECRET//SI/TK//REL TO USA, JPN",
    "極秘//REL TO JPN, USA",
    "極秘//特定秘密//REL TO JPN, USA",
    "秘//日本限り",
)


def _parse(marking: str) -> Label:
    from kyodo.labels import parse_marking

    return parse_marking(marking, REGISTRY)


COMMON_LABELS = st.sampled_from(tuple(_parse(m) for m in COMMON_MARKINGS))
LABELS: st.SearchStrategy[Label] = st.one_of(COMMON_LABELS, RANDOM_LABELS)


@st.composite
def person_specs(draw: st.DrawFn) -> dict[str, Any]:
    nation = draw(st.sampled_from(NATIONS))
    return {
        "nation": nation,
        # Mostly cleared people (the interesting ones), sometimes anyone.
        "clearance": draw(
            st.one_of(st.just(CLEARANCES[nation][-1]), st.sampled_from(CLEARANCES[nation]))
        ),
        "grants": tuple(sorted(draw(st.frozensets(st.sampled_from(COMPARTMENTS))))),
        "roles": ("member", draw(st.sampled_from(ROLES))),
    }


# ---- the oracle ----------------------------------------------------------------------------


def readable(subject: Subject, label: Label) -> bool:
    """The policy's own read check: the oracle of every invariant."""
    return may_read(subject, label)


def is_overseer(subject: Subject) -> bool:
    return bool(OVERSEERS & subject.roles)


# ---- a write that fails after storing its labels --------------------------------------------


class InjectedFault(Unavailable):
    """What the database wrapper raises inside an armed write (a lost connection, say)."""

    def __init__(self) -> None:
        super().__init__("injected fault: the connection was lost mid-transaction")


class _FailingMessages:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def store_labels(self, found: Sequence[Label]) -> None:
        await self._inner.store_labels(found)
        raise InjectedFault()

    async def edit(self, message: Any, editor_id: str) -> None:
        await self._inner.edit(message, editor_id)
        raise InjectedFault()


class _FailingTracks:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def upsert_many(
        self, batch: Sequence[Any], history_limit: int, known: set[str] | None = None
    ) -> list[bool]:
        await self._inner.upsert_many(batch, history_limit, known)
        raise InjectedFault()


class FaultyDatabase:
    """The real database; once `arm()`ed, the next write that stores a message, an edit or a
    track raises after the store did its work, so the transaction rolls back (the labels it
    stored with it). Refusals (audit-only writes) pass through untouched."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.armed = False
        self.fired = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def arm(self) -> None:
        self.armed = True

    def disarm(self) -> None:
        self.armed = False

    @asynccontextmanager
    async def transaction(self, *, write: bool = True, bulk: bool = False) -> AsyncIterator[Any]:
        async with self.inner.transaction(write=write, bulk=bulk) as uow:
            if write and self.armed:
                uow = replace(
                    uow,
                    messages=_FailingMessages(uow.messages),
                    tracks=_FailingTracks(uow.tracks),
                )
                try:
                    yield uow
                except InjectedFault:
                    self.armed = False
                    self.fired += 1
                    raise
            else:
                yield uow

    async def ping(self) -> None:
        await self.inner.ping()

    async def dispose(self) -> None:
        await self.inner.dispose()


# ---- raw reads (no cache, no service) --------------------------------------------------------


@dataclass(frozen=True)
class StoredVersion:
    version: int
    label: Label
    text: str


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    net_id: str
    reply_to: int | None
    label: Label
    text: str
    version: int
    deleted: bool
    versions: tuple[StoredVersion, ...]


async def stored_messages(db: Any) -> dict[int, StoredMessage]:
    """Every message and version as stored, labels decoded from their rows' bodies."""
    from kyodo.store.sql.labels import label_from_body

    m, v, lab = tables.messages, tables.message_versions, tables.labels
    async with db.inner.transaction(write=False) as tx:
        versions: dict[int, list[StoredVersion]] = {}
        rows = await tx.conn.execute(
            select(v.c.message_seq, v.c.version, v.c.text, lab.c.body)
            .join(lab, lab.c.id == v.c.label_id)
            .order_by(v.c.message_seq, v.c.version)
        )
        for seq, version, text, body in rows:
            versions.setdefault(seq, []).append(StoredVersion(version, label_from_body(body), text))
        rows = await tx.conn.execute(
            select(
                m.c.seq, m.c.net_id, m.c.reply_to, lab.c.body, m.c.text, m.c.version, m.c.deleted_at
            ).join(lab, lab.c.id == m.c.label_id)
        )
        return {
            seq: StoredMessage(
                seq,
                net_id,
                reply_to,
                label_from_body(body),
                text,
                version,
                deleted_at is not None,
                tuple(versions.get(seq, ())),
            )
            for seq, net_id, reply_to, body, text, version, deleted_at in rows
        }


async def deny_count(db: Any) -> int:
    """How many audit records say "deny"."""
    a = tables.audit_log
    async with db.inner.transaction(write=False) as tx:
        found = await tx.conn.execute(
            select(func.count()).select_from(a).where(a.c.decision == "deny")
        )
        return int(found.scalar_one())


async def downgrade_records(db: Any) -> set[str]:
    """The object ids of `message.downgrade` audit records (the lead is adding the action)."""
    a = tables.audit_log
    async with db.inner.transaction(write=False) as tx:
        rows = await tx.conn.execute(
            select(a.c.object_id).where(a.c.action == "message.downgrade", a.c.decision == "allow")
        )
        return {str(r[0]) for r in rows}


# ---- a migrated SQLite template, copied per example ---------------------------------------

_TEMPLATE: Path | None = None


def sqlite_template() -> Path:
    """One migrated SQLite file per test process; each example copies it (a copy is ~1 ms,
    a migration ~1 s)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        import asyncio

        from kyodo.store.migrate import migrate
        from kyodo.store.sql.database import SqlDatabase

        folder = Path(tempfile.mkdtemp(prefix="kyodo-leakhunt-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.db"

        async def build() -> None:
            db = SqlDatabase(f"sqlite+aiosqlite:///{path}")
            try:
                await migrate(db)
            finally:
                await db.dispose()

        asyncio.run(build())
        _TEMPLATE = path
    return _TEMPLATE


def fresh_sqlite_url() -> tuple[str, Path]:
    """A copy of the template in a new folder: its URL and the folder (to remove after)."""
    template = sqlite_template()
    folder = Path(tempfile.mkdtemp(prefix="ex-", dir=template.parent))
    shutil.copyfile(template, folder / "kyodo.db")
    return f"sqlite+aiosqlite:///{folder / 'kyodo.db'}", folder
