"""py-spy on Kyodo during an extra CoT step (--profile): the step, categories and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import profiling
from ..profiling import Profile
from ..report import fmt, ms
from .config import PROFILE_N, PROFILE_RATE, Config
from .steps import Row, Step, to_row

if TYPE_CHECKING:
    from pathlib import Path

    from ..clients.cot import Load
    from ..peers.base import Managed


def profile_n(cfg: Config) -> int:
    """The N the profiled step runs at."""
    return PROFILE_N if PROFILE_N in cfg.ns else max(cfg.ns)


async def profile_step(
    load: Load, server: Managed, n: int, senders: int, seconds: float, ready: int, out: Path
) -> Profile:
    """An extra step at PROFILE_RATE while py-spy samples the server (bench/profiling.py); its
    row is kept with the profile, not in the tables (sampling slows the server)."""
    load.step_counter += 1
    step = Step(load.step_counter, "profiled", n, senders, PROFILE_RATE, seconds)
    profile = Profile(
        "Kyodo",
        out / "cot-profile.svg",
        out / "cot-profile.txt",
        native=out / "cot-profile-native.txt",
    )
    await profiling.record(
        profile, server.pids[0], seconds, lambda: load.run_step(step), categorise=cot_category
    )
    profile.step = to_row(step, ready)
    return profile


# What a sample of Kyodo's CoT path was spent on: the first category one of whose functions
# (by name) or files (by path prefix) is on the sample's stack (anywhere, or for the last ones,
# which are on every stack's outer frames, as its leaf); else the leaf's package.
CATEGORIES: tuple[tuple[str, frozenset[str], tuple[str, ...], bool], ...] = (
    (
        "database writes (group commit, SQLAlchemy, aiosqlite)",
        frozenset({"_write_reports", "GroupCommit._run", "GroupCommit._drain"}),
        ("sqlalchemy/", "aiosqlite/", "sqlite3/", "kyodo/store/"),
        False,
    ),
    (
        "socket writes (CotClient._flush → transport.write → send)",
        frozenset({"CotClient._flush", "_SelectorSocketTransport.write"}),
        (),
        False,
    ),
    (
        "serialisation (relabelled XML / protobuf per event, label attributes and element)",
        frozenset(
            {
                "Encoded.bytes_for",
                "serialise_event",
                "relabelled_xml",
                "apply_label",
                "event_to_message",
                "frame_stream",
                "label_attributes",
                "label_element_xml",
                "track_event",
            }
        ),
        ("kyodo/cot/passthrough.py",),
        False,
    ),
    (
        "policy and labels (can_read, require, read_label)",
        frozenset({"read_label", "require", "DecisionCache.can_read"}),
        ("kyodo/policy/", "kyodo/labels/", "kyodo/cot/labelling.py"),
        False,
    ),
    (
        "parsing (stream splitting, safe XML, Event and Detail)",
        frozenset({"CotClient.read", "XmlEventReader.feed", "parse_event"}),
        (
            "kyodo/cot/stream.py",
            "kyodo/cot/safexml.py",
            "kyodo/cot/xml.py",
            "kyodo/cot/event.py",
            "kyodo/cot/detail.py",
            "kyodo/cot/tak.py",
            "xml/",
        ),
        False,
    ),
    (
        "fan-out (bus publish, per-client filter loop and offer, web map hub)",
        frozenset({"TakServer._track_changed", "TakServer.handle", "CotClient.offer"}),
        ("kyodo/bus/", "kyodo/services/live.py"),
        False,
    ),
    (
        "track service (report_track, TrackReport, Track, _position)",
        frozenset({"TakServer._position", "TakServer._receive", "report_track"}),
        ("kyodo/services/tracks.py", "kyodo/domain/"),
        False,
    ),
    ("logging (structlog)", frozenset(), ("structlog/", "logging/"), False),
    (
        "socket reads (asyncio streams)",
        frozenset({"_SelectorSocketTransport._read_ready", "StreamReader.read"}),
        ("asyncio/streams.py",),
        True,
    ),
    ("asyncio event loop (scheduling, callbacks, tasks)", frozenset(), ("asyncio/",), True),
)


def cot_category(names: list[profiling.Frame]) -> str:
    """What a sample of the CoT path was spent on (CATEGORIES)."""
    split = [full.rpartition(" (") for full, _, _ in names]
    funcs = {func for func, _, _ in split}
    paths = {path.rstrip(")") for _, _, path in split}
    leaf_func, _, leaf_path = split[-1]
    for category, functions, prefixes, leaf_only in CATEGORIES:
        if leaf_only:
            if leaf_func in functions or leaf_path.rstrip(")").startswith(prefixes or ("\0",)):
                return category
        elif funcs & functions or (prefixes and any(p.startswith(prefixes) for p in paths)):
            return category
    return f"other ({names[-1][2]})"


def profile_markdown(profile: Profile) -> list[str]:
    """The profile's section of cot.md, with the profiled step's figures."""
    intro: list[str] = []
    row = profile.step
    if isinstance(row, Row):
        intro += [
            f"An extra step at N={row.n}, {row.offered:,.0f} events/s offered ({row.senders} "
            "senders), while py-spy sampled the server (100 Hz, blocking mode, which slows it; "
            f"not in the tables): {row.in_rate:,.0f} events/s in, {row.deliveries_rate:,.0f} "
            f"deliveries/s, {row.delivered_pct:.1f}% delivered, p50 {ms(row.p50)} ms, p99 "
            f"{ms(row.p99)} ms, server {fmt(row.server_cpu, 2)} cores. Flame graph: "
            f"`{profile.svg.name}`; collapsed stacks: `{profile.raw.name}`.",
            "",
        ]
    return profiling.profile_markdown(profile, intro)
