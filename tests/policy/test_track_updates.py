"""Who may update a stored track: its originator or a writer of its feed; nobody may hide it
from its readers, lower its label or move it to another feed."""

from __future__ import annotations

import pytest

from kyodo.labels import SchemeRegistry, parse_marking
from kyodo.policy import Container, Subject, make_subject
from kyodo.policy.tracks import TrackFacts, may_update_track


@pytest.fixture
def feeds(registry: SchemeRegistry) -> dict[str, Container]:
    def feed(name: str, ceiling: str, entry: str = "UNCLASSIFIED") -> Container:
        return Container(name, parse_marking(ceiling, registry), parse_marking(entry, registry))

    return {
        "usfj": feed("USFJ", "SECRET//NOFORN"),
        "jsdf": feed("JSDF", "極秘//日本限り"),
        "cot": feed("CoT", "SECRET//REL TO USA, JPN"),
    }


def person(
    registry: SchemeRegistry, id: str, nation: str = "USA", clearance: str = "SECRET"
) -> Subject:
    return make_subject(registry, id=id, nation=nation, clearance=clearance)


def facts(registry: SchemeRegistry, marking: str, feed: Container, originator: str) -> TrackFacts:
    return TrackFacts(parse_marking(marking, registry), feed, originator)


def test_the_originator_updates_its_own_track(
    registry: SchemeRegistry, feeds: dict[str, Container]
) -> None:
    us = person(registry, "us")
    stored = facts(registry, "SECRET//NOFORN", feeds["usfj"], "us")
    assert may_update_track(us, stored, facts(registry, "SECRET//NOFORN", feeds["usfj"], "us"))
    # Raising the label is an update like any other (the report's own label has passed the
    # WRITE decision: the reporter reads it, the feed's ceiling dominates it).
    shared = facts(registry, "SECRET//REL TO USA, JPN", feeds["usfj"], "us")
    assert may_update_track(us, shared, stored)
    other = person(registry, "us2", clearance="TOP SECRET")
    assert may_update_track(other, shared, facts(registry, "SECRET//NOFORN", feeds["usfj"], "us2"))


def test_nobody_lowers_a_label_or_moves_a_track_to_another_feed(
    registry: SchemeRegistry, feeds: dict[str, Container]
) -> None:
    us = person(registry, "us")
    stored = facts(registry, "SECRET//NOFORN", feeds["usfj"], "us")
    lower = may_update_track(
        us, stored, facts(registry, "SECRET//REL TO USA, JPN", feeds["usfj"], "us")
    )
    assert not lower and lower.failed == ("lower",)
    moved = may_update_track(us, stored, facts(registry, "SECRET//NOFORN", feeds["cot"], "us"))
    assert not moved and moved.failed == ("feed",)
    unclassified = may_update_track(us, stored, facts(registry, "UNCLASSIFIED", feeds["cot"], "us"))
    assert set(unclassified.failed) == {"feed", "lower"}


def test_a_reporter_who_cannot_read_the_track_never_updates_it(
    registry: SchemeRegistry, feeds: dict[str, Container]
) -> None:
    noforn = facts(registry, "SECRET//NOFORN", feeds["usfj"], "us")
    japan_only = facts(registry, "極秘//日本限り", feeds["jsdf"], "jp")
    plain = person(registry, "cot:plain", clearance="UNCLASSIFIED")
    jp = person(registry, "jp", nation="JPN", clearance="GOKUHI")
    us = person(registry, "us", clearance="TOP SECRET")
    for subject, stored, report in (
        (plain, noforn, facts(registry, "UNCLASSIFIED", feeds["cot"], "cot:plain")),
        (plain, japan_only, facts(registry, "UNCLASSIFIED", feeds["jsdf"], "cot:plain")),
        (jp, noforn, facts(registry, "極秘//日本限り", feeds["usfj"], "jp")),
        (us, japan_only, facts(registry, "TOP SECRET//NOFORN", feeds["jsdf"], "us")),
    ):
        decision = may_update_track(subject, stored, report)
        assert not decision and "read" in decision.failed and "writer" in decision.failed
    # Even a track's originator, once they can no longer read it.
    demoted = person(registry, "us", clearance="CONFIDENTIAL")
    assert not may_update_track(demoted, noforn, noforn)


def test_others_must_be_writers_of_the_feed(
    registry: SchemeRegistry, feeds: dict[str, Container]
) -> None:
    # An unclassified track in the CoT feed: readable by all, its originator a plain client.
    stored = facts(registry, "UNCLASSIFIED", feeds["cot"], "cot:plain")
    journalist = person(registry, "journalist", clearance="UNCLASSIFIED")
    refused = may_update_track(
        journalist, stored, facts(registry, "UNCLASSIFIED", feeds["cot"], "journalist")
    )
    assert not refused and refused.failed == ("writer",)
    officer = person(registry, "officer", clearance="SECRET")
    assert may_update_track(
        officer, stored, facts(registry, "UNCLASSIFIED", feeds["cot"], "officer")
    )
    # A track stored before originators were kept has none: its feed's writers only.
    unknown = facts(registry, "UNCLASSIFIED", feeds["cot"], "")
    assert not may_update_track(
        journalist, unknown, facts(registry, "UNCLASSIFIED", feeds["cot"], "journalist")
    )
