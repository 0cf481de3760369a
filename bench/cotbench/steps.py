"""A CoT load step as measured (Step) and as reported (Row)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

KEEP_UP = 0.95  # share of the expected deliveries that arrived, for a step to "keep up"
KEEP_UP_P99_MS = 1000.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of an ascending list; nan when empty."""
    if not sorted_values:
        return math.nan
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass
class Step:
    """One measured interval: S senders at an aggregate rate, every client receiving."""

    step_id: int
    label: str
    n: int
    senders: int
    rate: float
    seconds: float
    churn: bool = False
    sent: int = 0
    skipped: int = 0  # not sent: the server did not read (its socket buffer was full)
    expected: int = 0
    delivered: int = 0
    echoes: int = 0
    stale: int = 0  # marked events of an earlier step
    other: int = 0  # events without this run's marker (server messages, snapshots, hellos)
    latencies: list[int] = field(default_factory=list)
    accepted: set[int] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    gen_cpu: float = math.nan
    server_cpu: float = math.nan
    churn_connections: int = 0
    sent_samples: dict[tuple[int, int], bytes] = field(default_factory=dict)
    got_samples: dict[tuple[int, int], bytes] = field(default_factory=dict)


@dataclass
class Row:
    """A step's results, as printed."""

    label: str
    n: int
    ready: int
    senders: int
    offered: float
    sent_rate: float
    in_rate: float
    deliveries_rate: float
    delivered_pct: float
    p50: float
    p99: float
    max_ms: float
    errors: int
    error_text: str
    gen_cpu: float
    server_cpu: float
    echoes: int
    churn: bool
    keeps_up: bool
    baseline: bool = False  # the light step the churn step is compared with


def to_row(step: Step, ready: int) -> Row:
    """The step's figures as printed; `ready` clients had received events before the steps."""
    lat = sorted(v / 1e6 for v in step.latencies)
    lost = max(0, step.expected - step.delivered)
    errors = sum(step.errors.values())
    texts = [f"{v}× {k}" for k, v in step.errors.most_common(3)]
    if lost:
        texts.insert(0, f"{lost} deliveries missing")
    pct = 100.0 * step.delivered / step.expected if step.expected else math.nan
    p99 = percentile(lat, 0.99)
    keeps = (
        bool(step.expected) and step.delivered >= KEEP_UP * step.expected and p99 < (KEEP_UP_P99_MS)
    )
    return Row(
        label=step.label,
        n=step.n,
        ready=ready,
        senders=step.senders,
        offered=step.rate,
        sent_rate=step.sent / step.seconds,
        in_rate=len(step.accepted) / step.seconds,
        deliveries_rate=step.delivered / step.seconds,
        delivered_pct=pct,
        p50=percentile(lat, 0.50),
        p99=p99,
        max_ms=lat[-1] if lat else math.nan,
        errors=errors,
        error_text="; ".join(texts),
        gen_cpu=step.gen_cpu,
        server_cpu=step.server_cpu,
        echoes=step.echoes,
        churn=step.churn,
        keeps_up=keeps,
    )
