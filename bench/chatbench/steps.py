"""One step of chat load as measured, and whether it kept up."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .config import EXPLODED_P99_MS, KEEP_UP, TARGET_P99_MS


def pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Step:
    """One rate step: what was posted, delivered, how fast, and what it cost."""

    backend: str
    offered: float
    seconds: float
    posts_ok: int = 0
    post_errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    dropped: int = 0
    achieved: float = 0.0
    delivered: int = 0
    expected: int = 0
    deliveries_per_s: float = 0.0
    lat: dict[str, float] = field(default_factory=dict)  # ms: p50 p95 p99 max
    http: dict[str, float] = field(default_factory=dict)  # ms: p50 p99
    gen_lag_p99: float = 0.0  # ms the generator started a post after its scheduled time
    ws_closes: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    server_ms_per_post: float = float("nan")  # server CPU time per accepted post
    pg_waits: dict[str, float] = field(default_factory=dict)  # mean backends active / on a lock
    quiet_wait: float = 0.0  # seconds spent waiting for other jobs on the machine to calm down
    repeated: bool = False  # measured twice (other jobs were busy the first time); the calmer kept

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.delivered)

    @property
    def errors(self) -> int:
        return (
            sum(self.post_errors.values()) + self.dropped + self.lost + sum(self.ws_closes.values())
        )

    @property
    def keeps_up(self) -> bool:
        return (
            self.achieved >= KEEP_UP * self.offered
            and not self.post_errors
            and not self.dropped
            and self.lost <= 0.001 * max(self.expected, 1)
            and not self.ws_closes
        )

    @property
    def sustained(self) -> bool:
        return self.keeps_up and self.lat.get("p99", float("inf")) < EXPLODED_P99_MS

    @property
    def meets_target(self) -> bool:
        return self.keeps_up and self.lat.get("p99", float("inf")) < TARGET_P99_MS

    def error_text(self) -> str:
        parts = [f"{k}×{v}" for k, v in self.post_errors.most_common()]
        if self.dropped:
            parts.append(f"backlog×{self.dropped}")
        if self.lost:
            parts.append(f"lost×{self.lost}")
        parts += [f"{k}×{v}" for k, v in self.ws_closes.most_common()]
        return ", ".join(parts) if parts else "0"
