"""Kyodo's read check, uncached and through DecisionCache, cold and warm."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from kyodo.policy import Action, DecisionCache, Resource, decide, may_read

from .timing import Row, check, timed

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy import Subject


MAY_READ = "uncached: may_read"
DECIDE = "uncached: decide (Decision + reasons)"
CACHED = "cached: can_read, warm"
CACHED_COPIES = "cached: can_read, warm, equal copies"
CACHED_COLD = "cached: can_read, cold (1st pass)"
CACHED_DECIDE = "cached: decide, warm, equal copies"


def bench_kyodo(
    subjects: list[Subject],
    labels: list[Label],
    pair_s: list[int],
    pair_l: list[int],
    repeats: int,
) -> tuple[list[Row], list[bool]]:
    """may_read and decide uncached; DecisionCache.can_read cold and warm, and warm with equal
    but not identical objects (a service rebuilds the Subject and Label of every request)."""
    n = len(pair_s)
    subs = [subjects[i] for i in pair_s]
    labs = [labels[i] for i in pair_l]
    resources = [Resource(lab) for lab in labels]
    res = [resources[i] for i in pair_l]
    subject_copies = [dataclasses.replace(s) for s in subjects]
    label_copies = [dataclasses.replace(lab) for lab in labels]
    resource_copies = [Resource(lab) for lab in label_copies]
    subs_eq = [subject_copies[i] for i in pair_s]
    labs_eq = [label_copies[i] for i in pair_l]
    res_eq = [resource_copies[i] for i in pair_l]
    cache = DecisionCache()

    def run_may_read() -> list[bool]:
        check = may_read
        return [check(s, lab) for s, lab in zip(subs, labs, strict=True)]

    def run_decide() -> list[bool]:
        fn, read = decide, Action.READ
        return [fn(s, read, r).allowed for s, r in zip(subs, res, strict=True)]

    def run_cached() -> list[bool]:
        check = cache.can_read
        return [check(s, lab) for s, lab in zip(subs, labs, strict=True)]

    def run_cached_copies() -> list[bool]:
        check = cache.can_read
        return [check(s, lab) for s, lab in zip(subs_eq, labs_eq, strict=True)]

    def fill_decisions() -> list[bool]:
        fn, read = cache.decide, Action.READ
        return [fn(s, read, r).allowed for s, r in zip(subs, res, strict=True)]

    def run_cached_decide() -> list[bool]:
        fn, read = cache.decide, Action.READ
        return [fn(s, read, r).allowed for s, r in zip(subs_eq, res_eq, strict=True)]

    t_may, expected = timed(run_may_read, repeats)
    times: dict[str, list[float]] = {MAY_READ: t_may}
    for mode, run, runs in (
        (DECIDE, run_decide, repeats),
        (CACHED_COLD, run_cached, 1),  # the first pass fills the cache
        (CACHED, run_cached, repeats),
        (CACHED_COPIES, run_cached_copies, repeats),
        ("fill", fill_decisions, 1),
        (CACHED_DECIDE, run_cached_decide, repeats),
    ):
        times[mode], got = timed(run, runs)
        check(f"Kyodo {mode}", got, expected)
    distinct = len({(s, lab) for s, lab in zip(pair_s, pair_l, strict=True)})
    notes = {
        CACHED_COLD: f"{distinct:,} misses",
        CACHED_COPIES: "Subject, Label rebuilt",
        CACHED_DECIDE: "services/guard.py's path",
    }
    order = (MAY_READ, DECIDE, CACHED, CACHED_COPIES, CACHED_COLD, CACHED_DECIDE)
    rows = [Row("Kyodo", m, n, times[m], kyodo=True, note=notes.get(m, "")) for m in order]
    return rows, expected
