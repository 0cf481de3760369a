"""The hash chain's verifier catches edited, deleted and reordered records (pure)."""

from __future__ import annotations

from dataclasses import replace

from kyodo.audit.chain import GENESIS_HASH, AuditEntry, AuditRecord, seal, verify_chain


def _chain(n: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        entry = AuditEntry(
            actor=f"user{seq}",
            action="person.read",
            object_type="person",
            object_id=str(seq),
            details={"n": seq, "名前": "佐藤"},
        )
        record = seal(seq, f"2026-11-25T00:00:{seq:02d}.000000Z", entry, prev)
        records.append(record)
        prev = record.hash
    return records


def test_an_intact_chain_verifies() -> None:
    report = verify_chain(_chain(10))
    assert report.ok and report.records == 10 and report.first_broken is None


def test_an_empty_chain_verifies() -> None:
    assert verify_chain([]).ok


def test_an_edited_record_is_found_by_its_seq() -> None:
    records = _chain(10)
    records[4] = replace(records[4], entry=replace(records[4].entry, actor="someone else"))
    report = verify_chain(records)
    assert not report.ok and report.first_broken == 5 and "edited" in report.reason


def test_an_edited_and_rehashed_record_breaks_the_next_link() -> None:
    records = _chain(10)
    forged = seal(
        5, records[4].time, replace(records[4].entry, decision="deny"), records[4].prev_hash
    )
    records[4] = forged
    report = verify_chain(records)
    assert not report.ok and report.first_broken == 6


def test_a_deleted_record_is_reported_as_missing() -> None:
    records = _chain(10)
    del records[3]
    report = verify_chain(records)
    assert not report.ok and report.first_broken == 4 and "missing" in report.reason


def test_swapped_records_are_caught() -> None:
    records = _chain(10)
    a, b = records[2], records[3]
    records[2] = replace(b, seq=3)
    records[3] = replace(a, seq=4)
    report = verify_chain(records)
    assert not report.ok and report.first_broken == 3


def test_time_is_covered_by_the_hash() -> None:
    records = _chain(3)
    records[1] = replace(records[1], time="2020-01-01T00:00:00.000000Z")
    assert verify_chain(records).first_broken == 2
