"""The policy floor: the plain dominance check on pre-built tuples, with nothing around it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .timing import Row, check, timed

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy import Subject

FLOOR_MODE = "plain dominance check (tuples)"

Reader = tuple[int, frozenset[str], str, frozenset[str]]  # rank, grants, nation, rel grants
Marking = tuple[int, frozenset[str], frozenset[str] | None]  # rank, restrictive, releasable to


def dominates(reader: Reader, marking: Marking) -> bool:
    """Level at or above, every restrictive category held, and releasable to the reader."""
    rank, grants, nation, rel_grants = reader
    level, restrictive, rel = marking
    return (
        rank >= level
        and restrictive <= grants
        and (rel is None or nation in rel or not rel_grants.isdisjoint(rel))
    )


def bench_floor(
    subjects: list[Subject],
    labels: list[Label],
    pair_s: list[int],
    pair_l: list[int],
    expected: list[bool],
    repeats: int,
) -> Row:
    """The same pairs as Kyodo's may_read, cross-checked: the fastest a read check could be."""
    readers: list[Reader] = [
        (s.clearance_rank, s.grants, s.nation, s.releasability_grants) for s in subjects
    ]
    markings: list[Marking] = [(lab.rank, lab.restrictive, lab.releasable_to) for lab in labels]
    subs = [readers[i] for i in pair_s]
    marks = [markings[i] for i in pair_l]

    def run() -> list[bool]:
        # `dominates` inlined: no call per decision, the least Python can do for one.
        return [
            rank >= level
            and restrictive <= grants
            and (rel is None or nation in rel or not rel_grants.isdisjoint(rel))
            for (rank, grants, nation, rel_grants), (level, restrictive, rel) in zip(
                subs, marks, strict=True
            )
        ]

    times, got = timed(run, repeats)
    check("the floor", got, expected)
    return Row("Floor", FLOOR_MODE, len(pair_s), times, note="inline, on tuples: no call")
