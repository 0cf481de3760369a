"""Checks stored messages and memberships against the audit records that made them (pure)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from kyodo.audit.chain import AuditRecord


def text_sha256(text: str) -> str:
    """The hash an audit record keeps of a message's text (hex SHA-256 of its UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredText:
    """A message row or one of its versions as the database holds it; `label` is whatever the
    caller's `same_label` compares with a recorded label."""

    seq: int
    version: int
    label: Any
    text: str
    net_id: str | None = None  # only for the message row


@dataclass(slots=True)
class _Expected:
    record: int  # the audit seq that created this version
    label: dict[str, Any] | None
    text_sha256: str | None  # records older than text hashes have none


@dataclass(slots=True)
class Reconciler:
    """Fed every audit record in order, then the stored rows; collects what does not match.

    `same_label(recorded, stored)` says whether a record's label (its JSON object) is the
    stored one (the caller knows the schemes; this module does not)."""

    same_label: Callable[[dict[str, Any] | None, Any], bool]
    problems: list[str] = field(default_factory=list)
    _versions: dict[int, dict[int, _Expected]] = field(default_factory=dict)
    _net_of: dict[int, str] = field(default_factory=dict)
    _purged: set[int] = field(default_factory=set)
    # (net_id, person key, joined): keys are person ids, or usernames in older records
    _membership: list[tuple[str, str, bool]] = field(default_factory=list)

    def see(self, record: AuditRecord) -> None:
        entry = record.entry
        d = entry.details
        if entry.object_type == "message" and entry.decision == "allow":
            if not entry.object_id.isdigit():
                return
            seq = int(entry.object_id)
            if entry.action in (
                "message.post",
                "message.edit",
                "message.rollup",
                "message.downgrade",
            ):
                version = 1 if entry.action == "message.post" else d.get("version")
                # A downgrade's record carries the higher label; the version has `new_label`.
                label = d.get("new_label") if entry.action == "message.downgrade" else entry.label
                if isinstance(version, int):
                    expected = _Expected(record.seq, label, d.get("text_sha256"))
                    self._versions.setdefault(seq, {})[version] = expected
                if entry.action == "message.post" and isinstance(d.get("net_id"), str):
                    self._net_of[seq] = d["net_id"]
            elif entry.action == "message.purge":
                self._purged.add(seq)
        elif entry.object_type == "net":
            net = entry.object_id
            person = d.get("person_id")
            if entry.action == "net.create" and entry.decision == "allow":
                self._membership.append((net, str(d.get("owner_id") or entry.actor), True))
            elif entry.action == "net.add_member" and entry.decision == "allow":
                self._membership.append((net, str(person or d.get("person")), True))
            elif (
                entry.action == "net.remove_member" and entry.decision == "allow"
            ) or entry.action == "net.member_removed":
                self._membership.append((net, str(person or d.get("person")), False))

    def check_message(self, row: StoredText, purged: bool) -> None:
        """The message row: a post created it, and its current label and text are the ones
        the record of its current version holds."""
        versions = self._versions.get(row.seq)
        if versions is None or 1 not in versions:
            self.problems.append(f"message {row.seq} has no audit record of its posting")
            return
        if purged and row.seq not in self._purged:
            self.problems.append(f"message {row.seq} is marked purged without an audit record")
        recorded_net = self._net_of.get(row.seq)
        if recorded_net is not None and row.net_id != recorded_net:
            self.problems.append(
                f"message {row.seq} is in net {row.net_id}, but was posted in {recorded_net}"
            )
        self._check(row, versions, purged, "message")

    def check_version(self, row: StoredText) -> None:
        """One stored version of a message against the record that created it."""
        versions = self._versions.get(row.seq, {})
        self._check(row, versions, row.seq in self._purged, "version")

    def check_versions_present(self, stored: set[tuple[int, int]]) -> None:
        """Every version an audit record created is still stored."""
        for seq, versions in sorted(self._versions.items()):
            for version, expected in sorted(versions.items()):
                if (seq, version) not in stored:
                    self.problems.append(
                        f"message {seq} version {version} (audit record {expected.record}) is "
                        "missing from the database"
                    )

    def _check(
        self, row: StoredText, versions: dict[int, _Expected], purged: bool, what: str
    ) -> None:
        name = f"message {row.seq} version {row.version}"
        expected = versions.get(row.version)
        if expected is None:
            self.problems.append(f"{name} ({what}) has no audit record that created it")
            return
        if not self.same_label(expected.label, row.label):
            marking = (expected.label or {}).get("marking", "no label")
            self.problems.append(
                f"{name} ({what}): its label is not the one audit record {expected.record} "
                f"holds ({marking}): changed in the database"
            )
        if (
            not purged
            and expected.text_sha256 is not None
            and text_sha256(row.text) != expected.text_sha256
        ):
            self.problems.append(
                f"{name} ({what}): its text is not the one audit record {expected.record} "
                "hashed: changed in the database"
            )

    def person_keys(self) -> set[str]:
        """The person keys the membership records use (for the caller to resolve)."""
        return {person for _, person, _ in self._membership}

    def check_members(
        self,
        stored: Iterable[tuple[str, str]],
        person_key: Callable[[str], str],
    ) -> None:
        """The stored (net id, person id) rows against the memberships the records made;
        `person_key` turns a recorded key (an id, or an older record's username) into an id."""
        expected: set[tuple[str, str]] = set()
        for net, person, joined in self._membership:
            key = (net, person_key(person))
            if joined:
                expected.add(key)
            else:
                expected.discard(key)
        rows = set(stored)
        for net, person in sorted(rows - expected):
            self.problems.append(f"member {person} of net {net} has no audit record adding them")
        for net, person in sorted(expected - rows):
            self.problems.append(
                f"member {person} of net {net} was removed without an audit record"
            )
