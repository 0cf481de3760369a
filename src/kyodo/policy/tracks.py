"""Who may update or delete a track: `may_update_track`, `may_delete_track` (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.policy.decision import ALLOW, Decision, may_read

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy.decision import Container
    from kyodo.policy.subject import Subject


@dataclass(frozen=True, slots=True)
class TrackFacts:
    """What the policy reads of a stored track, or of a report for its uid: the label, the
    feed (as a container) and who first reported it (a subject id; "" when unknown)."""

    label: Label
    feed: Container
    originator: str = ""


def may_update_track(subject: Subject, track: TrackFacts, report: TrackFacts) -> Decision:
    """Whether `subject` may replace the stored `track` with `report` (same uid).

    Everyone: must read the track as stored (nobody overwrites what they cannot see), keep it
    in its feed, and not lower its label (the report's label dominates the stored one).
    Beyond that, the update is the track's originator's or a writer of its feed's: a subject
    cleared for the feed's ceiling, who may write anything the feed may hold. The report itself
    has passed the WRITE decision (its reporter reads its label, its feed's ceiling dominates
    it). The reasons name the stored track's feed: they are for the audit log, not for the
    reporter."""
    if (
        subject.id == track.originator
        and (report.label is track.label or report.label == track.label)
        and report.feed == track.feed
        and may_read(subject, track.label)
    ):
        return ALLOW  # the hot path: a position from the track's own originator
    reasons: list[str] = []
    failed: list[str] = []
    if not may_read(subject, track.label):
        reasons.append(f"cannot read the track as stored ({track.feed.name})")
        failed.append("read")
    if report.feed != track.feed:
        reasons.append(f"the track is in feed {track.feed.name}, not {report.feed.name}")
        failed.append("feed")
    if not report.label.dominates(track.label):
        reasons.append("the report's label would lower the track's label")
        failed.append("lower")
    if subject.id != track.originator and not may_read(subject, track.feed.ceiling):
        reasons.append(
            f"neither the track's originator nor a writer of feed {track.feed.name} "
            "(cleared for its ceiling)"
        )
        failed.append("writer")
    if not reasons:
        return ALLOW
    return Decision(False, tuple(reasons), tuple(failed))


def may_delete_track(subject: Subject, track: TrackFacts) -> Decision:
    """Whether `subject` may delete the stored `track`: whoever may update it as it is (reads
    it as stored; its originator or a writer of its feed). A delete changes neither label nor
    feed, so it is the update that keeps both."""
    return may_update_track(subject, track, track)
