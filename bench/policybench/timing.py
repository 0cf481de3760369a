"""Timing a batch of decisions, and the cross-check every engine must pass against Kyodo."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


@dataclass
class Row:
    """One measured configuration."""

    engine: str
    mode: str
    measured: int  # decisions per run
    seconds: list[float]  # one per run
    kyodo: bool = False
    note: str = ""

    @property
    def best(self) -> float:
        return self.measured / min(self.seconds)

    @property
    def median(self) -> float:
        return self.measured / statistics.median(self.seconds)


def timed(run: Callable[[], list[bool]], repeats: int) -> tuple[list[float], list[bool]]:
    """Run `repeats` times with the collector off (as timeit does); times and the last answers."""
    times: list[float] = []
    answers: list[bool] = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            answers = run()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return times, answers


def check(engine: str, got: Sequence[bool], expected: Sequence[bool]) -> None:
    """Fail loudly unless an engine answered exactly as Kyodo's may_read on every pair."""
    if len(got) != len(expected):
        raise SystemExit(f"CROSS-CHECK FAILED: {engine} answered {len(got)} of {len(expected)}")
    wrong = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    if wrong:
        raise SystemExit(
            f"CROSS-CHECK FAILED: {engine} disagrees with Kyodo on {len(wrong)} of {len(got)} "
            f"pairs (first at index {wrong[0]})"
        )
