"""The leak hunt over the HTTP API (the real app in process, httpx over ASGI): a few people with
API tokens create nets, add members, post, reply and edit; every answer they read — messages,
versions, records export, the guard's recipients, the directory, nets, members, the audit log —
is checked against the policy. Smaller than the services' run: the read invariants only."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from kyodo.api.app import build_context, create_app
from kyodo.domain.identity import Person
from kyodo.labels import Label, label_from_json, render_marking
from kyodo.services import identity
from kyodo.services.actor import operator_actor
from kyodo.settings import Settings

from tests.leakhunt import world
from tests.leakhunt.machine import flag
from tests.leakhunt.world import COMMON_LABELS, LABELS, REGISTRY, WORDS, readable
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.slow  # fuzzing: a bounded hunt still takes tens of seconds

T = TypeVar("T")
IDX = st.integers(min_value=0, max_value=63)


def _marking(label: Label) -> str:
    return render_marking(REGISTRY.fit(label), REGISTRY)


def _label(value: Any) -> Label:
    return value if isinstance(value, Label) else label_from_json(value, REGISTRY)


class HttpLeakHunt(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        url, self.folder = world.fresh_sqlite_url()
        settings = Settings(database_url=url)
        self.ctx = build_context(settings)
        self.ctx.passwords = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        app = create_app(settings, context=self.ctx)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://testserver/api/v1")
        self.operator = operator_actor("leakhunt", REGISTRY)
        self.people: list[Person] = []
        self.tokens: dict[str, dict[str, str]] = {}
        self.nets: list[dict[str, Any]] = []  # NetOut, plus "members": set of person ids
        self.msgs: dict[int, list[Label]] = {}  # seq -> label of each version
        self.msg_net: dict[int, str] = {}  # seq -> net id

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        try:
            self.run(self.http.aclose())
            self.run(self.ctx.group_commit.flush())
            self.run(self.ctx.db.dispose())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.run(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self.loop.close()
            shutil.rmtree(self.folder, True)

    def pick(self, items: list[T], i: int) -> T:
        return items[i % len(items)]

    def request(self, who: Person, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.run(self.http.request(method, path, headers=self.tokens[who.id], **kw))
        note(f"  {who.username} {method} {path} -> {response.status_code}")
        assert response.status_code < 500, response.text
        return response

    # ---- writes ----------------------------------------------------------------------------

    @initialize(
        specs=st.lists(world.person_specs(), min_size=2, max_size=3),
        labels=st.lists(st.one_of(st.none(), COMMON_LABELS), min_size=3, max_size=3),
        ceiling=COMMON_LABELS,
    )
    def setup(
        self, specs: list[dict[str, Any]], labels: list[Label | None], ceiling: Label
    ) -> None:
        for i, (spec, label) in enumerate(zip(specs, labels, strict=False)):
            person = self.run(
                identity.create_person(
                    self.ctx,
                    self.operator,
                    identity.PersonInput(
                        username=f"h{i}", name=f"h{i}", password=PASSWORD, label=label, **spec
                    ),
                )
            )
            note(f"  h{i}: {spec}, record at {_marking(label) if label else '-'}")
            self.people.append(person)
            login = self.run(
                self.http.post("/auth/login", json={"username": f"h{i}", "password": PASSWORD})
            )
            assert login.status_code == 200, login.text
            token = self.run(
                self.http.post(
                    "/auth/tokens",
                    json={"name": "leakhunt", "scopes": ["read", "write"]},
                    headers={"X-CSRF-Token": login.json()["csrf_token"]},
                )
            )
            assert token.status_code == 201, token.text
            self.http.cookies.clear()
            self.tokens[person.id] = {"Authorization": f"Bearer {token.json()['token']}"}
        able = [p for p in self.people if readable(p.subject(), ceiling)]
        if able:
            self.create_net(self.people.index(able[0]), ceiling)
        if self.nets:
            for i in range(len(self.people)):
                self.add_member(0, i)

    @precondition(lambda self: len(self.nets) < 3)
    @rule(p=IDX, ceiling=LABELS)
    def create_net(self, p: int, ceiling: Label) -> None:
        creator = self.pick(self.people, p)
        body = {"name": f"hnet{len(self.nets)}", "ceiling": _marking(ceiling)}
        response = self.request(creator, "POST", "/nets", json=body)
        if response.status_code == 201:
            net = response.json()
            net["members"] = {creator.id}
            self.nets.append(net)

    @precondition(lambda self: self.nets)
    @rule(n=IDX, who=IDX)
    def add_member(self, n: int, who: int) -> None:
        net = self.pick(self.nets, n)
        owner = next(p for p in self.people if p.id in net["members"])
        person = self.pick(self.people, who)
        if person.id in net["members"]:
            return
        response = self.request(
            owner, "POST", f"/nets/{net['id']}/members", json={"person_id": person.id}
        )
        if response.status_code == 201:
            assert readable(person.subject(), _label(net["entry"]))
            net["members"].add(person.id)

    @precondition(lambda self: self.nets)
    @rule(
        n=IDX,
        who=IDX,
        label=st.one_of(st.none(), LABELS),
        word=st.sampled_from(WORDS),
        reply=st.one_of(st.none(), IDX),
    )
    def post(self, n: int, who: int, label: Label | None, word: str, reply: int | None) -> None:
        net = self.pick(self.nets, n)
        author = self.pick(self.people, who)
        body: dict[str, Any] = {"text": f"{word} {len(self.msgs)}"}
        if label is not None:
            body["label"] = _marking(label)
        in_net = [s for s in self.msgs if self.msg_net.get(s) == net["id"]]
        if reply is not None and in_net:
            body["reply_to"] = self.pick(sorted(in_net), reply)
        response = self.request(author, "POST", f"/nets/{net['id']}/messages", json=body)
        if response.status_code == 201:
            message = response.json()
            message = message.get("message", message)
            self.msgs[message["seq"]] = [_label(message["label"])]
            self.msg_net[message["seq"]] = net["id"]

    @precondition(lambda self: self.msgs)
    @rule(m=IDX, label=st.one_of(st.none(), LABELS), word=st.sampled_from(WORDS))
    def edit(self, m: int, label: Label | None, word: str) -> None:
        seq = self.pick(sorted(self.msgs), m)
        net = next(n for n in self.nets if n["id"] == self.msg_net[seq])
        for author in self.people:  # whoever wrote it (others are refused)
            if author.id not in net["members"]:
                continue
            body: dict[str, Any] = {"text": f"{word} edited"}
            if label is not None:
                body["label"] = _marking(label)
            response = self.request(author, "PUT", f"/messages/{seq}", json=body)
            if response.status_code == 200:
                self.msgs[seq].append(_label(response.json()["label"]))
                return

    # ---- reads: every answer checked ---------------------------------------------------------

    def _check(self, reader: Person, label: Any, where: str) -> None:
        found = _label(label)
        assert readable(reader.subject(), found), (
            f"{where}: {reader.username} got an item at {_marking(found)}"
        )

    def _overseer_sees(self, reader: Person, net: dict[str, Any], where: str) -> None:
        if reader.id in net["members"]:
            return
        subject = reader.subject()
        assert world.is_overseer(subject), f"{where}: {reader.username} is not a member"
        entry = _label(net["entry"])
        if not readable(subject, entry):
            flag(
                "overseer_nets",
                f"{where}: {reader.username} got {net['name']} whose entry is {_marking(entry)}",
            )

    @precondition(lambda self: self.people)
    @rule(
        kind=st.sampled_from(
            ("messages", "versions", "export", "guard", "people", "net", "members", "audit")
        ),
        who=IDX,
        i=IDX,
        label=LABELS,
    )
    def read(self, kind: str, who: int, i: int, label: Label) -> None:
        reader = self.pick(self.people, who)
        net = self.pick(self.nets, i) if self.nets else None
        if kind == "people":
            response = self.request(reader, "GET", "/people", params={"limit": 200})
            for person in response.json()["items"]:
                self._check(reader, person["label"], "GET /people")
        elif kind == "audit":
            response = self.request(reader, "GET", "/audit", params={"limit": 200})
            if response.status_code == 200:
                for record in response.json()["items"]:
                    if record["label"] is not None and not readable(
                        reader.subject(), _label(record["label"])
                    ):
                        flag(
                            "audit_listing",
                            f"GET /audit: {reader.username} got record {record['seq']} "
                            f"({record['action']}) at {record['label']['marking']}",
                        )
        elif kind == "versions" and self.msgs:
            seq = self.pick(sorted(self.msgs), i)
            response = self.request(reader, "GET", f"/messages/{seq}/versions")
            if response.status_code == 200:
                for v in response.json():
                    self._check(reader, v["label"], f"GET /messages/{seq}/versions")
        elif net is None:
            return
        elif kind == "messages":
            response = self.request(reader, "GET", f"/nets/{net['id']}/messages")
            if response.status_code == 200:
                page = response.json()
                for item in page["items"]:
                    self._check(reader, item["label"], "GET messages")
                    self._check(reader, self.msgs[item["seq"]][-1], "GET messages (stored)")
                if page["banner"] is not None:
                    self._check(reader, page["banner"], "GET messages banner")
        elif kind == "export":
            response = self.request(reader, "GET", f"/nets/{net['id']}/export")
            if response.status_code == 200:
                for text in response.text.splitlines():
                    line = json.loads(text)
                    if line["type"] != "message":
                        continue
                    self._check(reader, line["label"], "export")
                    for v in line["versions"]:
                        if not readable(reader.subject(), _label(v["label"])):
                            flag(
                                "export_versions",
                                f"export: {reader.username} got v{v['version']} of "
                                f"{line['seq']} at {v['label']['marking']}",
                            )
        elif kind == "guard":
            body = {"text": "alpha bravo", "label": _marking(label), "net_id": net["id"]}
            response = self.request(reader, "POST", "/guard/check", json=body)
            if response.status_code == 200:
                self._overseer_sees(reader, net, "POST /guard/check")
                people = {p.id: p for p in self.people}
                for r in response.json()["recipients"]:
                    recipient = people[r["person_id"]]
                    assert readable(recipient.subject(), label), "a recipient who cannot read"
                    if not readable(reader.subject(), recipient.label):
                        flag(
                            "guard_recipients",
                            f"POST /guard/check: {reader.username} got recipient "
                            f"{recipient.username}, whose record is at {_marking(recipient.label)}",
                        )
        elif kind in ("net", "members"):
            path = f"/nets/{net['id']}" + ("/members" if kind == "members" else "")
            response = self.request(reader, "GET", path)
            if response.status_code == 200:
                self._overseer_sees(reader, net, f"GET {path}")


def test_nothing_leaks_over_http() -> None:
    run_state_machine_as_test(
        HttpLeakHunt,
        settings=world.hunt_settings(max(5, world.EXAMPLES // 3), max(10, world.STEPS // 2)),
    )
