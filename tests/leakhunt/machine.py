"""The leak hunt's state machine over the real services (see the package docstring).

Every rule calls a service as one person would; every answer is checked against the policy
(`world.readable`, i.e. `kyodo.policy.may_read`) as it comes back, and after every step the
invariants read the store raw and drain every live connection.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kyodo.api.message_json import authored_json, message_json
from kyodo.api.track_json import track_frame
from kyodo.domain.identity import Person
from kyodo.domain.nets import Net, NetRole
from kyodo.domain.tracks import Feed, Position, TrackReport
from kyodo.errors import (
    Conflict,
    GuardRefused,
    InvalidInput,
    KyodoError,
    LabelError,
    NotFound,
    PermissionDenied,
)
from kyodo.labels import Label, join_all, label_from_json, parse_marking, render_marking
from kyodo.services import audit as audit_service
from kyodo.services import identity, messages, nets, tracks
from kyodo.services.actor import Actor, operator_actor, person_actor
from kyodo.services.live import LiveConnection, LiveHub
from kyodo.services.ports import AuditQuery
from kyodo.settings import Settings
from kyodo.wiring import build_context

from tests.leakhunt import world
from tests.leakhunt.world import LABELS, REGISTRY, WORDS, check, readable

T = TypeVar("T")


def _seq(msg: Msg) -> int:
    return msg.seq


IDX = st.integers(min_value=0, max_value=63)
MAYBE_LABEL = st.one_of(st.none(), LABELS)
# How a post or an edit picks its label: the net's own labels (so most are accepted), or any.
HOW = st.sampled_from(("none", "entry", "default", "ceiling", "given", "given"))
TEXTS = st.builds(
    lambda a, b, n: f"{a} {b} {n}",
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    st.integers(0, 99),
)
UIDS = st.sampled_from(("T-1", "T-2", "T-3"))
T0 = datetime.now(UTC).replace(microsecond=0)


def _m(label: Label | None) -> str:
    if label is None:
        return "-"
    try:
        return render_marking(REGISTRY.fit(label), REGISTRY)
    except KyodoError:  # a label no scheme can write as a marking: its parts, then
        return repr(label)


@dataclass
class Msg:
    """What the oracle knows of a message: every version's label and text, as acknowledged."""

    seq: int
    net_id: str
    author_id: str
    reply_to: int | None
    versions: list[tuple[Label, str]]
    deleted: bool = False

    @property
    def label(self) -> Label:
        return self.versions[-1][0]


@dataclass
class TrackModel:
    reports: dict[datetime, Label] = field(default_factory=dict)
    label: Label | None = None


def flag(bug: str, problem: str) -> None:
    """A violation of a check that is off until its bug is fixed: noted, logged, and raised
    only where the check is on."""
    note(f"  [{bug}] {problem}")
    world.log_finding(bug, problem)
    if check(bug):
        raise AssertionError(problem)


class Refused(Exception):
    """A refusal the rule expected might happen (wraps the service's error)."""


class LeakHunt(RuleBasedStateMachine):
    """People, nets, messages, live connections and tracks, checked after every step."""

    # A subclass may give another database (PostgreSQL): returns its URL and its clean-up.
    @staticmethod
    def database() -> tuple[str, Callable[[], None]]:
        url, folder = world.fresh_sqlite_url()
        return url, lambda: shutil.rmtree(folder, True)

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        url, self._cleanup = type(self).database()
        ctx = build_context(Settings(database_url=url))
        self.db = world.FaultyDatabase(ctx.db)
        ctx.db = self.db
        self.ctx = ctx
        self.operator = operator_actor("leakhunt", REGISTRY)
        self.hub = LiveHub(
            ctx.decisions,
            max_queue=100_000,
            render_message=partial(message_json, ctx.registry),
            render_track=partial(track_frame, ctx.registry),
        )
        ctx.bus.subscribe(self.hub.handle)
        self.people: list[Person] = []
        self.conns: dict[str, LiveConnection] = {}
        self.nets: list[Net] = []
        self.rosters: dict[str, dict[str, NetRole]] = {}
        self.msgs: dict[int, Msg] = {}
        self.feeds: list[Feed] = []
        self.tracks: dict[str, TrackModel] = {}
        self.clock = 0
        self.downgraded: set[int] = set()  # seqs an edit lowered (known bug, check off)
        self.done: dict[str, int] = {}  # successful writes by kind (for the run's statistics)

    # ---- plumbing ---------------------------------------------------------------------------

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        world.log_finding(
            "stats",
            f"people={len(self.people)} nets={len(self.nets)} "
            f"members={sum(len(r) for r in self.rosters.values())} msgs={len(self.msgs)} "
            f"versions={sum(len(m.versions) for m in self.msgs.values())} "
            f"tracks={len(self.tracks)} faults={self.db.fired} "
            + " ".join(f"{k}={v}" for k, v in sorted(self.done.items())),
        )
        try:
            self.run(self.ctx.group_commit.flush())
            self.run(self.db.dispose())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.run(asyncio.gather(*pending, return_exceptions=True))
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
            self._cleanup()

    def actor(self, person: Person) -> Actor:
        return person_actor(person, "api")

    def pick(self, items: list[T], i: int) -> T:
        return items[i % len(items)]

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.id == person_id)

    def call(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        """Call a service; a policy refusal (PermissionDenied/NotFound) must leave a deny
        record in the audit log. Refusals of any kind come back as `Refused`."""

        async def go() -> T:
            before = await world.deny_count(self.db)
            try:
                return await make()
            except (PermissionDenied, NotFound) as exc:
                after = await world.deny_count(self.db)
                note(f"  {what}: refused ({type(exc).__name__}: {exc.message})")
                if after <= before:
                    problem = (
                        f"{what} was refused ({type(exc).__name__}: {exc.message}) "
                        "without a deny record in the audit log"
                    )
                    flag("unaudited_refusals", problem)
                raise Refused(str(exc)) from exc
            except (InvalidInput, Conflict, GuardRefused, LabelError) as exc:
                # LabelError: a reply joining 特定秘密 with SI/TK has no marking (reported).
                note(f"  {what}: refused ({type(exc).__name__}: {exc.message})")
                if "FOREIGN KEY" in exc.message or "foreign key" in exc.message:
                    # A label id cached from a rolled-back transaction names no row.
                    problem = f"{what}: {exc.message}"
                    flag("label_id_cache", problem)
                raise Refused(str(exc)) from exc

        return self.run(go())

    def refresh_rosters(self) -> None:
        async def go() -> dict[str, dict[str, NetRole]]:
            async with self.db.inner.transaction(write=False) as tx:
                return {
                    n.id: {m.person_id: m.role for m in await tx.nets.members(n.id)}
                    for n in self.nets
                }

        self.rosters = self.run(go())

    def members(self, net: Net) -> list[Person]:
        roster = self.rosters.get(net.id, {})
        return [p for p in self.people if p.id in roster]

    def net_label(self, net: Net, how: str, given: Label) -> Label | None:
        return {
            "none": None,
            "entry": net.entry,
            "default": net.default_label,
            "ceiling": net.ceiling,
        }.get(how, given)

    def net_of(self, msg: Msg) -> Net:
        return next(n for n in self.nets if n.id == msg.net_id)

    def now(self) -> datetime:
        self.clock += 1
        return T0 + timedelta(seconds=self.clock)

    # ---- set-up ----------------------------------------------------------------------------

    @initialize(
        specs=st.lists(world.person_specs(), min_size=2, max_size=5),
        ceiling=world.COMMON_LABELS,
        entry=MAYBE_LABEL,
    )
    def setup(self, specs: list[dict[str, Any]], ceiling: Label, entry: Label | None) -> None:
        """Feeds, people, and a first net with everyone who may join it."""
        for name, marking in (
            ("high", "TOP SECRET//SI/TK//REL TO USA, JPN, AUS"),
            ("low", "SECRET//REL TO USA, JPN"),
        ):
            feed = self.run(
                tracks.create_feed(
                    self.ctx, self.operator, name=name, ceiling=parse_marking(marking, REGISTRY)
                )
            )
            self.feeds.append(feed)
        for spec in specs:
            self.add_person(spec)
        self.create_net(0, ceiling, entry, None, readable_creator=True)
        if self.nets:
            for i in range(len(self.people)):
                self.add_member(0, 0, i, NetRole.MEMBER, by_owner=True, vetted=True)

    # ---- people ----------------------------------------------------------------------------

    @precondition(lambda self: len(self.people) < 8)
    @rule(spec=world.person_specs())
    def add_person(self, spec: dict[str, Any]) -> None:
        username = f"p{len(self.people)}"
        person = self.run(
            identity.create_person(
                self.ctx,
                self.operator,
                identity.PersonInput(username=username, name=username, password=None, **spec),
            )
        )
        note(f"  {username}: {spec}")
        self.people.append(person)
        conn = self.hub.connect(person.subject())
        self.hub.watch_tracks(conn)
        self.conns[person.id] = conn

    @precondition(lambda self: self.people)
    @rule(p=IDX, spec=world.person_specs(), keep_roles=st.booleans())
    def update_person(self, p: int, spec: dict[str, Any], keep_roles: bool) -> None:
        person = self.pick(self.people, p)
        changes = identity.PersonChanges(
            nation=spec["nation"],
            clearance=spec["clearance"],
            grants=spec["grants"],
            roles=None if keep_roles else spec["roles"],
        )
        after = self.run(identity.update_person(self.ctx, self.operator, person.id, changes))
        self.done["updates"] = self.done.get("updates", 0) + 1
        self.people[self.people.index(person)] = after
        self.refresh_rosters()

    # ---- nets ------------------------------------------------------------------------------

    @precondition(lambda self: self.people and len(self.nets) < 4)
    @rule(
        p=IDX,
        ceiling=LABELS,
        entry=MAYBE_LABEL,
        default=MAYBE_LABEL,
        readable_creator=st.booleans(),
    )
    def create_net(
        self,
        p: int,
        ceiling: Label,
        entry: Label | None,
        default: Label | None,
        readable_creator: bool = False,
    ) -> None:
        able = [x for x in self.people if readable(x.subject(), ceiling)]
        creator = self.pick(able if able and readable_creator else self.people, p)
        if entry is not None and not ceiling.dominates(entry):
            entry = None
        if default is not None and not ceiling.dominates(default):
            default = None
        name = f"net{len(self.nets)}"
        try:
            net = self.call(
                f"{creator.username} creates {name} at {_m(ceiling)}",
                lambda: nets.create_net(
                    self.ctx,
                    self.actor(creator),
                    name=name,
                    ceiling=ceiling,
                    entry=entry,
                    default_label=default,
                ),
            )
        except Refused as exc:
            if "FOREIGN KEY" not in str(exc) and "foreign key" not in str(exc):
                assert not readable(creator.subject(), ceiling), "a creator who can was refused"
            return
        assert readable(creator.subject(), ceiling), "a net created above its creator"
        self.nets.append(net)
        self.rosters[net.id] = {creator.id: NetRole.OWNER}
        self.hub.subscribe(self.conns[creator.id], [net.id])

    @precondition(lambda self: self.nets and self.people)
    @rule(
        n=IDX,
        by=IDX,
        who=IDX,
        role=st.sampled_from(NetRole),
        by_owner=st.booleans(),
    )
    def add_member(
        self, n: int, by: int, who: int, role: NetRole, by_owner: bool, vetted: bool = False
    ) -> None:
        net = self.pick(self.nets, n)
        owners = [p for p in self.members(net) if self.rosters[net.id][p.id] is NetRole.OWNER]
        adder = self.pick(owners, by) if by_owner and owners else self.pick(self.people, by)
        person = self.pick(self.people, who)
        if vetted and not readable(person.subject(), net.entry):
            return
        if person.id in self.rosters.get(net.id, {}):
            return
        try:
            self.call(
                f"{adder.username} adds {person.username} to {net.name}",
                lambda: nets.add_member(self.ctx, self.actor(adder), net.id, person.id, role),
            )
        except Refused:
            return
        finally:
            self.refresh_rosters()
        assert readable(person.subject(), net.entry), (
            f"{person.username} joined {net.name} without reading its entry label {_m(net.entry)}"
        )
        self.hub.subscribe(self.conns[person.id], [net.id])

    @precondition(lambda self: self.nets and self.people)
    @rule(n=IDX, who=IDX, role=st.sampled_from(NetRole))
    def add_cleared_member(self, n: int, who: int, role: NetRole) -> None:
        net = self.pick(self.nets, n)
        able = [p for p in self.people if readable(p.subject(), net.entry)]
        if able:
            self.add_member(n, 0, self.people.index(self.pick(able, who)), role, by_owner=True)

    @precondition(lambda self: self.nets and self.people)
    @rule(n=IDX, who=IDX)
    def leave(self, n: int, who: int) -> None:
        net = self.pick(self.nets, n)
        members = self.members(net)
        if not members:
            return
        person = self.pick(members, who)
        self.call(
            f"{person.username} leaves {net.name}",
            lambda: nets.remove_member(self.ctx, self.actor(person), net.id, person.id),
        )
        self.refresh_rosters()

    # ---- messages --------------------------------------------------------------------------

    def _post(
        self,
        author: Person,
        net: Net,
        text: str,
        label: Label | None,
        reply_to: int | None = None,
        fault: bool = False,
    ) -> None:
        what = f"{author.username} posts {text!r} at {_m(label)} in {net.name}"
        if reply_to is not None:
            what += f" replying to {reply_to}"
        if fault:
            what += " (the write fails)"
            self.db.arm()
        try:
            posted = self.call(
                what,
                lambda: messages.post_message(
                    self.ctx, self.actor(author), net.id, text, label=label, reply_to=reply_to
                ),
            )
        except Refused:
            return
        except world.InjectedFault:
            note(f"  {what}: rolled back")
            return
        finally:
            self.db.disarm()
        stored = posted.message
        note(f"  -> seq {stored.seq} at {_m(stored.label)}")
        assert not fault, "a post whose write failed was acknowledged"
        subject = author.subject()
        assert readable(subject, stored.label), "a post its author cannot read"
        assert net.ceiling.dominates(stored.label), "a post above the net's ceiling"
        if label is not None:
            assert stored.label.dominates(label), "a post stored below the label asked for"
        if reply_to is not None:
            parent = self.msgs[reply_to]
            assert stored.label.dominates(parent.label), "a reply below what it answers"
            assert readable(subject, parent.label), "a reply to a message its author cannot read"
        self.msgs[stored.seq] = Msg(
            stored.seq, net.id, author.id, reply_to, [(stored.label, stored.text)]
        )

    @precondition(lambda self: self.nets)
    @rule(n=IDX, who=IDX, text=TEXTS, how=HOW, label=LABELS)
    def post(self, n: int, who: int, text: str, how: str, label: Label) -> None:
        net = self.pick(self.nets, n)
        members = self.members(net)
        if members:
            self._post(self.pick(members, who), net, text, self.net_label(net, how, label))

    @precondition(lambda self: self.nets and self.people)
    @rule(n=IDX, who=IDX, text=TEXTS, label=MAYBE_LABEL)
    def post_as_anyone(self, n: int, who: int, text: str, label: Label | None) -> None:
        self._post(self.pick(self.people, who), self.pick(self.nets, n), text, label)

    @precondition(lambda self: self.msgs)
    @rule(m=IDX, who=IDX, text=TEXTS, how=HOW, label=LABELS)
    def reply(self, m: int, who: int, text: str, how: str, label: Label) -> None:
        parent = self.pick(sorted(self.msgs.values(), key=lambda x: x.seq), m)
        net = self.net_of(parent)
        members = self.members(net) or self.people
        self._post(
            self.pick(members, who),
            net,
            text,
            self.net_label(net, how, label),
            reply_to=parent.seq,
        )

    @precondition(lambda self: self.nets)
    @rule(n=IDX, who=IDX, text=TEXTS, how=HOW, label=LABELS)
    def post_rolled_back(self, n: int, who: int, text: str, how: str, label: Label) -> None:
        net = self.pick(self.nets, n)
        members = self.members(net)
        if members:
            label_ = self.net_label(net, how, label)
            self._post(self.pick(members, who), net, text, label_, fault=True)

    @precondition(lambda self: self.msgs)
    @rule(m=IDX, text=TEXTS, how=HOW, label=LABELS, as_author=st.booleans(), who=IDX)
    def edit(self, m: int, text: str, how: str, label: Label, as_author: bool, who: int) -> None:
        self._edit(m, text, how, label, as_author, who, fault=False)

    @precondition(lambda self: self.msgs)
    @rule(m=IDX, text=TEXTS, how=HOW, label=LABELS)
    def edit_rolled_back(self, m: int, text: str, how: str, label: Label) -> None:
        self._edit(m, text, how, label, True, 0, fault=True)

    def _edit(
        self, m: int, text: str, how: str, given: Label, as_author: bool, who: int, fault: bool
    ) -> None:
        msg = self.pick(sorted(self.msgs.values(), key=lambda x: x.seq), m)
        label = self.net_label(self.net_of(msg), how, given)
        editor = self.person(msg.author_id) if as_author else self.pick(self.people, who)
        what = f"{editor.username} edits {msg.seq} to {text!r} at {_m(label)}"
        if fault:
            what += " (the write fails)"
            self.db.arm()
        try:
            edited = self.call(
                what,
                lambda: messages.edit_message(
                    self.ctx, self.actor(editor), msg.seq, text, label=label
                ),
            )
        except Refused:
            return
        except world.InjectedFault:
            note(f"  {what}: rolled back")
            return
        finally:
            self.db.disarm()
        assert not fault, "an edit whose write failed was acknowledged"
        note(f"  -> v{edited.version} at {_m(edited.label)}")
        assert editor.id == msg.author_id, "an edit by someone else than the author"
        assert readable(editor.subject(), edited.label)
        if not edited.label.dominates(msg.label):
            self.downgraded.add(msg.seq)
            flag(
                "edit_downgrade",
                f"edit lowered message {msg.seq} from {_m(msg.label)} to {_m(edited.label)}",
            )
        msg.versions.append((edited.label, edited.text))
        self._roll_up(msg)
        self.done["edits"] = self.done.get("edits", 0) + 1

    def _roll_up(self, parent: Msg) -> None:
        """As the service does: a raised message raises its replies, down the thread, to at
        least its label (a new version each, same text)."""
        pending = [parent]
        while pending:
            above = pending.pop()
            below = sorted((x for x in self.msgs.values() if x.reply_to == above.seq), key=_seq)
            for reply in below:
                if reply.label.dominates(above.label):
                    continue
                raised = self.ctx.registry.fit(join_all(reply.label, above.label))
                note(f"  -> reply {reply.seq} rolled up to {_m(raised)}")
                reply.versions.append((raised, reply.versions[-1][1]))
                pending.append(reply)

    @precondition(lambda self: self.msgs)
    @rule(m=IDX, who=IDX, as_author=st.booleans())
    def delete(self, m: int, who: int, as_author: bool) -> None:
        msg = self.pick(sorted(self.msgs.values(), key=lambda x: x.seq), m)
        by = self.person(msg.author_id) if as_author else self.pick(self.people, who)
        try:
            self.call(
                f"{by.username} deletes {msg.seq}",
                lambda: messages.delete_message(self.ctx, self.actor(by), msg.seq),
            )
        except Refused:
            return
        msg.deleted = True
        self.done["deletes"] = self.done.get("deletes", 0) + 1

    @precondition(lambda self: self.people)
    @rule(label=world.COMMON_LABELS)
    def rolled_back_transaction(self, label: Label) -> None:
        """A transaction that stores a new label, then fails: nothing of it may stay."""

        async def go() -> None:
            try:
                async with self.db.transaction() as tx:
                    await tx.messages.store_labels([label])
                    raise world.InjectedFault()
            except world.InjectedFault:
                pass

        note(f"  a transaction stores {_m(label)} and rolls back")
        self.run(go())

    # ---- reads: every answer checked against the policy --------------------------------------

    @precondition(lambda self: self.people)
    @rule(
        kind=st.sampled_from(("messages", "versions", "net", "export", "audit", "tracks")),
        i=IDX,
        who=IDX,
        word=st.sampled_from(WORDS),
        as_author=st.booleans(),
        uid=UIDS,
    )
    def read(self, kind: str, i: int, who: int, word: str, as_author: bool, uid: str) -> None:
        """One person reads (one rule for every read, so that writes are drawn often)."""
        if kind == "audit":
            self.read_audit(who)
        elif kind == "tracks":
            self.read_tracks(who, uid)
        elif kind == "versions" and self.msgs:
            self.read_versions(i, who, as_author)
        elif kind == "messages" and self.nets:
            self.read_messages(i, who, word)
        elif kind == "net" and self.nets:
            self.read_net(i, who)
        elif kind == "export" and self.nets:
            self.export(i, who)

    def _check_payload(self, reader: Person, item: dict[str, Any], where: str) -> None:
        subject = reader.subject()
        label = label_from_json(item["label"], REGISTRY)
        assert readable(subject, label), (
            f"{where}: {reader.username} got message {item['seq']} at {_m(label)}"
        )
        msg = self.msgs.get(item["seq"])
        assert msg is not None, f"{where}: message {item['seq']} was never acknowledged"
        true_label, true_text = msg.versions[item["version"] - 1]
        assert readable(subject, true_label), (
            f"{where}: {reader.username} got message {item['seq']} stored at {_m(true_label)}"
        )
        if item.get("text") is not None:
            assert item["text"] == true_text, f"{where}: message {item['seq']} has another text"

    def read_messages(self, n: int, who: int, word: str) -> None:
        net = self.pick(self.nets, n)
        reader = self.pick(self.people, who)
        actor = self.actor(reader)
        try:
            listed = self.call(
                f"{reader.username} lists {net.name}",
                lambda: messages.list_messages(self.ctx, actor, net.id),
            )
        except Refused:
            listed = []
        for item in listed:
            self._check_payload(reader, authored_json(self.ctx.registry, item), "list_messages")
        all_nets = [x.id for x in self.nets]
        changed = self.run(messages.changes_since(self.ctx, actor, all_nets, 0))
        for item in changed:
            self._check_payload(reader, authored_json(self.ctx.registry, item), "changes_since")
        for item in self.call(
            f"{reader.username} searches {word!r}",
            lambda: messages.search_messages(self.ctx, actor, word),
        ):
            self._check_payload(reader, authored_json(self.ctx.registry, item), "search_messages")

    def read_versions(self, m: int, who: int, as_author: bool) -> None:
        msg = self.pick(sorted(self.msgs.values(), key=lambda x: x.seq), m)
        reader = self.person(msg.author_id) if as_author else self.pick(self.people, who)
        try:
            versions = self.call(
                f"{reader.username} reads the versions of {msg.seq}",
                lambda: messages.message_versions(self.ctx, self.actor(reader), msg.seq),
            )
        except Refused:
            return
        for v in versions:
            assert readable(reader.subject(), v.label), (
                f"message_versions: {reader.username} got v{v.version} of {msg.seq} at "
                f"{_m(v.label)}"
            )
            if (v.label, v.text) != msg.versions[v.version - 1]:
                flag("label_id_cache", f"message_versions: v{v.version} of {msg.seq} changed")

    def read_net(self, n: int, who: int) -> None:
        net = self.pick(self.nets, n)
        reader = self.pick(self.people, who)
        actor = self.actor(reader)
        member = reader.id in self.rosters.get(net.id, {})
        for what, make in (
            ("get_net", lambda: nets.get_net(self.ctx, actor, net.id)),
            ("list_members", lambda: nets.list_members(self.ctx, actor, net.id)),
        ):
            try:
                self.call(f"{reader.username} {what} {net.name}", make)
            except Refused:
                continue
            if member:
                continue
            subject = reader.subject()
            assert world.is_overseer(subject), (
                f"{what}: {reader.username}, not a member, got {net.name}"
            )
            if not readable(subject, net.entry):
                flag(
                    "overseer_nets",
                    f"{what}: {reader.username} (roles {sorted(subject.roles)}, clearance "
                    f"{subject.clearance}) got {net.name} whose entry is {_m(net.entry)}",
                )

    def export(self, n: int, who: int) -> None:
        net = self.pick(self.nets, n)
        reader = self.pick(self.people, who)

        async def collect() -> list[dict[str, Any]]:
            return [
                line async for line in messages.export_net(self.ctx, self.actor(reader), net.id)
            ]

        try:
            lines = self.call(f"{reader.username} exports {net.name}", collect)
        except Refused:
            return
        subject = reader.subject()
        for line in lines:
            if line["type"] != "message":
                continue
            label = label_from_json(line["label"], REGISTRY)
            assert readable(subject, label), (
                f"export_net: {reader.username} got message {line['seq']} at {_m(label)}"
            )
            assert readable(subject, self.msgs[line["seq"]].label)
            for v in line["versions"]:
                vlabel = label_from_json(v["label"], REGISTRY)
                if not readable(subject, vlabel):
                    flag(
                        "export_versions",
                        f"export_net: {reader.username} got v{v['version']} of message "
                        f"{line['seq']} at {_m(vlabel)}",
                    )

    def read_audit(self, who: int) -> None:
        reader = self.pick(self.people, who)
        try:
            page = self.call(
                f"{reader.username} reads the audit log",
                lambda: audit_service.list_audit(
                    self.ctx, self.actor(reader), AuditQuery(), None, 200
                ),
            )
        except Refused:
            return
        for record in page.items:
            if record.entry.label is None:
                continue
            label = label_from_json(record.entry.label, REGISTRY)
            if not readable(reader.subject(), label):
                flag(
                    "audit_listing",
                    f"list_audit: {reader.username} got record {record.seq} "
                    f"({record.entry.action}) at {_m(label)}",
                )

    # ---- tracks ----------------------------------------------------------------------------

    @precondition(lambda self: self.people)
    @rule(who=IDX, f=IDX, uid=UIDS, label=MAYBE_LABEL, fault=st.booleans())
    def report_track(self, who: int, f: int, uid: str, label: Label | None, fault: bool) -> None:
        reporter = self.pick(self.people, who)
        feed = self.pick(self.feeds, f)
        at = self.now()
        report = TrackReport(
            uid=uid,
            type="a-f-G-U-C",
            callsign=f"{reporter.username}-{uid}",
            position=Position(35.0 + self.clock / 1000, 139.0, at),
            start=at,
            stale=at + timedelta(days=1),
            label=label,
        )
        what = f"{reporter.username} reports {uid} in {feed.name} at {_m(label)}"
        if fault:
            what += " (the write fails)"
            self.db.arm()
        try:
            track = self.call(
                what, lambda: tracks.report_track(self.ctx, self.actor(reporter), feed.id, report)
            )
        except Refused:
            return
        except world.InjectedFault:
            note(f"  {what}: rolled back")
            return
        finally:
            self.db.disarm()
        assert not fault, "a report whose write failed was acknowledged"
        model = self.tracks.setdefault(uid, TrackModel())
        if model.label is not None and not readable(reporter.subject(), model.label):
            note(f"  -> {uid} was at {_m(model.label)}, now {_m(track.label)}")
            flag(
                "track_hijack",
                f"{reporter.username} replaced track {uid} at {_m(model.label)}, which "
                f"they cannot read, with one at {_m(track.label)}",
            )
        model.label = track.label
        model.reports[at] = track.label
        self.done["reports"] = self.done.get("reports", 0) + 1

    def read_tracks(self, who: int, uid: str) -> None:
        reader = self.pick(self.people, who)
        subject = reader.subject()
        actor = self.actor(reader)
        for track in self.run(tracks.list_tracks(self.ctx, actor, include_stale=True)):
            assert readable(subject, track.label), (
                f"list_tracks: {reader.username} got {track.uid} at {_m(track.label)}"
            )
            model = self.tracks.get(track.uid)
            assert model is not None and model.label is not None
            assert readable(subject, model.label), (
                f"list_tracks: {reader.username} got {track.uid}, which is at {_m(model.label)}"
            )
        if uid not in self.tracks:
            return
        try:
            track, positions = self.call(
                f"{reader.username} reads the history of {uid}",
                lambda: tracks.track_history(self.ctx, actor, uid),
            )
        except Refused:
            return
        assert readable(subject, track.label)
        for position in positions:
            at = position.time.astimezone(UTC)
            label = self.tracks[uid].reports.get(at)
            assert label is not None, f"track_history: a position of {uid} never reported"
            assert readable(subject, label), (
                f"track_history: {reader.username} got a position of {uid} reported at {_m(label)}"
            )

    # ---- invariants after every step -------------------------------------------------------

    @invariant()
    def live_frames_are_readable(self) -> None:
        for person in self.people:
            conn = self.conns[person.id]
            subject = person.subject()
            while not conn.queue.empty():
                _, wire = conn.queue.get_nowait()
                if not wire:
                    continue
                frame = json.loads(wire)
                if frame["type"] == "message":
                    self._check_payload(person, frame["message"], "live frame")
                elif frame["type"] == "track":
                    label = label_from_json(frame["track"]["label"], REGISTRY)
                    assert readable(subject, label), (
                        f"live: {person.username} got track {frame['track']['uid']} at {_m(label)}"
                    )

    @invariant()
    def stored_messages_keep_their_labels(self) -> None:
        if not self.msgs and not self.db.fired:
            return
        stored = self.run(world.stored_messages(self.db))
        downgrades = self.run(world.downgrade_records(self.db)) if self.downgraded else set()
        extra = set(stored) - set(self.msgs)
        assert not extra, f"messages stored but never acknowledged (rolled back?): {extra}"
        for seq, msg in self.msgs.items():
            found = stored.get(seq)
            assert found is not None, f"message {seq} was lost"
            assert len(found.versions) == len(msg.versions), f"message {seq} lost versions"
            for v, (label, text) in zip(found.versions, msg.versions, strict=True):
                assert v.text == text, f"message {seq} v{v.version} has another text"
                if v.label != label:
                    note(f"  message {seq} v{v.version}: posted {_m(label)}, stored {_m(v.label)}")
                    flag(
                        "label_id_cache",
                        f"message {seq} v{v.version} was acknowledged at {_m(label)} but "
                        f"is stored at {_m(v.label)}",
                    )
                    msg.versions[v.version - 1] = (v.label, text)  # carry on with the truth
            assert found.label == msg.label or not check("label_id_cache"), (
                f"message {seq} is stored at {_m(found.label)}, not {_m(msg.label)}"
            )
            if str(seq) in downgrades:
                continue
            for before, after in zip(found.versions, found.versions[1:], strict=False):
                if not after.label.dominates(before.label):
                    flag(
                        "edit_downgrade",
                        f"message {seq} went from {_m(before.label)} (v{before.version}) down "
                        f"to {_m(after.label)} (v{after.version}) without a downgrade record",
                    )
            if found.reply_to is not None:
                parent = stored[found.reply_to]
                if not found.label.dominates(parent.label):
                    flag(
                        "edit_downgrade",
                        f"reply {seq} at {_m(found.label)} is below {found.reply_to} at "
                        f"{_m(parent.label)}",
                    )
