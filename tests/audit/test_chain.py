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


def test_the_report_gives_the_head_to_keep_as_an_anchor() -> None:
    records = _chain(10)
    report = verify_chain(records)
    assert (report.head_seq, report.head_hash) == (10, records[-1].hash)
    assert verify_chain(records, {10: records[-1].hash, 3: records[2].hash}).ok


def test_cutting_off_the_newest_records_is_caught_only_with_an_anchor() -> None:
    records = _chain(10)
    anchor = {10: records[-1].hash}
    truncated = records[:7]
    assert verify_chain(truncated).ok  # the chain alone cannot tell
    report = verify_chain(truncated, anchor)
    assert not report.ok and report.first_broken == 8
    assert "records 8..10 (at least) were deleted" in report.reason


def test_a_rebuilt_tail_does_not_match_the_anchor() -> None:
    records = _chain(10)
    anchor = {8: records[7].hash}
    # Records 8.. deleted and new ones sealed in their place: a consistent chain, another hash.
    forged = records[:7]
    prev = forged[-1].hash
    for seq in (8, 9):
        entry = replace(records[seq - 1].entry, actor="cover story")
        forged.append(seal(seq, records[seq - 1].time, entry, prev))
        prev = forged[-1].hash
    assert verify_chain(forged).ok
    report = verify_chain(forged, anchor)
    assert not report.ok and report.first_broken == 8 and "not the one anchored" in report.reason
