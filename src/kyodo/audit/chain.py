"""Hash chain of audit records: canonical encoding, record hashes, and the verifier (pure)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

GENESIS_HASH = "0" * 64


def audit_time(moment: datetime | None = None) -> str:
    """The fixed-width UTC time of audit records, e.g. 2025-01-31T12:00:00.000000Z: it sorts as
    text, so a time filter is a text comparison."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_audit_time(value: str) -> str:
    """An ISO 8601 time or date (naive = UTC) in the records' form; ValueError if it is none."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return audit_time(moment)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened, before it has a place in the chain.

    `decision` is `allow`, `deny` or `info`; `label` is the object's label as its JSON object.
    """

    actor: str
    action: str
    object_type: str
    object_id: str
    decision: str = "allow"
    label: dict[str, Any] | None = None
    reasons: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An entry with its sequence number, time, and place in the chain."""

    seq: int
    time: str
    entry: AuditEntry
    prev_hash: str
    hash: str
    # A stub for a reader who may not read the record's label: only what `redact` keeps.
    redacted: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON (the API's and the export's form)."""
        if self.redacted:
            return {
                "seq": self.seq,
                "time": self.time,
                "actor": self.entry.actor,
                "action": self.entry.action,
                "object_type": self.entry.object_type,
                "prev_hash": self.prev_hash,
                "hash": self.hash,
                "redacted": True,
            }
        return {
            "seq": self.seq,
            "time": self.time,
            **_entry_fields(self.entry),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "redacted": False,
        }

    def redact(self) -> AuditRecord:
        """The stub a reader below the record's label sees: seq, time, actor, action, object
        type and the hashes (so the chain's links still show); the object, decision, label,
        reasons and details are dropped, not masked."""
        hidden = AuditEntry(
            actor=self.entry.actor,
            action=self.entry.action,
            object_type=self.entry.object_type,
            object_id="",
            decision="",
        )
        return replace(self, entry=hidden, redacted=True)


def _entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "decision": entry.decision,
        "label": entry.label,
        "reasons": list(entry.reasons),
        "details": entry.details,
    }


def canonical_bytes(seq: int, time: str, entry: AuditEntry, prev_hash: str) -> bytes:
    """The exact bytes hashed: sorted keys, no insignificant space, UTF-8."""
    body = {"seq": seq, "time": time, "prev_hash": prev_hash, **_entry_fields(entry)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(seq: int, time: str, entry: AuditEntry, prev_hash: str) -> str:
    """SHA-256 (hex) of the record's canonical encoding, which includes the previous hash."""
    return hashlib.sha256(canonical_bytes(seq, time, entry, prev_hash)).hexdigest()


def seal(seq: int, time: str, entry: AuditEntry, prev_hash: str) -> AuditRecord:
    """Give an entry its place in the chain."""
    return AuditRecord(seq, time, entry, prev_hash, record_hash(seq, time, entry, prev_hash))


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Result of walking the chain: ok, how many records, and the first break if any."""

    ok: bool
    records: int
    first_broken: int | None = None
    reason: str = ""
    head_seq: int = 0  # the last record: kept outside the database, it is an anchor
    head_hash: str = ""


class ChainWalker:
    """Checks records one at a time, in sequence order, so a long log is verified streaming."""

    def __init__(
        self, anchors: Mapping[int, str] | None = None, start: tuple[int, str] | None = None
    ) -> None:
        # `start` (seq, hash) resumes after a record already verified (the sealer's last
        # checkpoint), so only the records since are walked.
        self.expected_seq = 1 if start is None else start[0] + 1
        self.prev = GENESIS_HASH if start is None else start[1]
        self.count = 0
        # Anchors (seq → hash) noted outside the database earlier: the chain alone cannot show
        # that its newest records were cut off, an anchor past the end can.
        self.anchors = dict(anchors or {})

    def step(self, record: AuditRecord) -> VerifyReport | None:
        """None if the record fits the chain, else the report of the first break."""
        self.count += 1
        if record.seq != self.expected_seq:
            if record.seq > self.expected_seq:
                why = f"records {self.expected_seq}..{record.seq - 1} are missing (deleted)"
                return VerifyReport(False, self.count, self.expected_seq, why)
            why = f"record {record.seq} is out of order (expected {self.expected_seq})"
            return VerifyReport(False, self.count, record.seq, why)
        if record.prev_hash != self.prev:
            why = (
                f"record {record.seq} does not follow record {record.seq - 1}: one of them was "
                "rewritten, replaced or moved"
            )
            return VerifyReport(False, self.count, record.seq, why)
        if record_hash(record.seq, record.time, record.entry, record.prev_hash) != record.hash:
            return VerifyReport(False, self.count, record.seq, f"record {record.seq} was edited")
        anchored = self.anchors.get(record.seq)
        if anchored is not None and anchored != record.hash:
            why = f"record {record.seq} is not the one anchored (hash {anchored[:16]}…): replaced"
            return VerifyReport(False, self.count, record.seq, why)
        self.prev = record.hash
        self.expected_seq += 1
        return None

    def report(self) -> VerifyReport:
        """The report once every record has been stepped through without a break."""
        head = self.expected_seq - 1
        beyond = [seq for seq in self.anchors if seq > head]
        if beyond:
            why = (
                f"the log ends at record {head} but record {max(beyond)} was anchored: "
                f"records {head + 1}..{max(beyond)} (at least) were deleted"
            )
            return VerifyReport(False, self.count, head + 1, why, head, self.prev)
        return VerifyReport(True, self.count, head_seq=head, head_hash=self.prev)


def verify_chain(
    records: Iterable[AuditRecord], anchors: Mapping[int, str] | None = None
) -> VerifyReport:
    """Walk records in sequence order; report the first edited, deleted or reordered one."""
    walker = ChainWalker(anchors)
    for record in records:
        broken = walker.step(record)
        if broken is not None:
            return broken
    return walker.report()
