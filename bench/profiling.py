"""py-spy for the benches: sample a server during a step, then summarise the stacks."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")
Frame = tuple[str, str, str]  # function (file), function (file:line), package
# Leaf frames where a thread waits rather than works; py-spy (no --native) can count them as
# active: the event loop in uvloop's epoll (Runner.run), idle aiosqlite/anyio worker threads.
WAITING_FUNCS = frozenset({"Runner.run (asyncio/runners.py)", "Condition.wait (threading.py)"})
WAITING_LINES = frozenset({"_connection_worker_thread (aiosqlite/core.py:59)"})
DB_PACKAGES = frozenset({"sqlalchemy", "aiosqlite", "asyncpg"})


def py_spy() -> str | None:
    """py-spy beside the running interpreter (the project's venv), else on PATH."""
    here = Path(sys.executable).with_name("py-spy")
    if here.exists():
        return str(here)
    return shutil.which("py-spy")


@dataclass
class Profile:
    name: str  # what was profiled (a backend, a server)
    svg: Path
    raw: Path
    native: Path | None = None
    samples: int = 0
    self_top: list[tuple[str, float]] = field(default_factory=list)
    inclusive_top: list[tuple[str, float]] = field(default_factory=list)
    packages: list[tuple[str, float]] = field(default_factory=list)
    threads: list[tuple[str, float]] = field(default_factory=list)
    on_stack: list[tuple[str, float]] = field(default_factory=list)
    db_sites: list[tuple[str, float]] = field(default_factory=list)
    categories: list[tuple[str, float]] = field(default_factory=list)
    idle_samples: int = 0
    native_samples: int = 0
    native_shares: list[tuple[tuple[str, str], int]] = field(default_factory=list)
    step: Any = None  # the bench's own record of the step run while sampling
    errors: list[str] = field(default_factory=list)


def frame_name(frame: str) -> Frame:
    """(function (file), function (file:line), package) of a py-spy frame 'f (mod/file.py:N)'."""
    func, _, where = frame.rpartition(" (")
    path, _, line = where.rstrip(")").rpartition(":")
    if not path:
        path, line = line, ""
    for marker in ("site-packages/", "/src/"):  # py-spy usually shortens paths already
        if marker in path:
            path = path.split(marker, 1)[1]
    parts = path.split("/")
    if parts[0] == "kyodo" and len(parts) > 2:
        package = f"kyodo.{parts[1]}"
    else:
        package = parts[0].removesuffix(".py") or "?"
    name = func or frame
    return f"{name} ({path})", f"{name} ({path}:{line})", package


def _native_state(stack: str) -> tuple[str, str]:
    """(thread, state) of one thread's stack in the `--native --idle` sample."""
    if "_connection_worker_thread" in stack:
        if "sqlite3InvokeBusyHandler" in stack:
            return "SQLite worker threads", "sleeping in SQLite's busy handler (write lock wait)"
        if "aiosqlite/core.py:59" in stack:
            return "SQLite worker threads", "idle (no query queued)"
        return "SQLite worker threads", "running SQL"
    if "Thread._bootstrap" in stack:
        idle = "Condition.wait" in stack or "Queue.get" in stack
        return "other threads", "idle" if idle else "running"
    leaf = stack.rsplit(";", 1)[-1]
    if "epoll" in leaf:
        return "event loop thread", "idle in epoll"
    if "gc_collect" in stack:
        return "event loop thread", "running: garbage collector"
    if "deflate" in stack:
        return "event loop thread", "running: zlib deflate (WebSocket compression)"
    return "event loop thread", "running"


def _db_site(names: list[Frame]) -> str:
    """The Kyodo line that issued the database work of a sample (innermost Kyodo frame)."""
    if names[0][0].startswith("Thread._bootstrap"):
        return "SQLite worker threads (the sqlite3 C calls of every query)"
    site = next(
        (n[1] for n in reversed(names) if n[2].startswith("kyodo")),
        "SQLAlchemy/driver code in a greenlet (per-statement cache key, compile, result set-up; "
        "py-spy does not see the calling stack)",
    )
    if any("ping" in n[0].split(" (")[0].lower() for n in names):
        return f"pool pre-ping at checkout, {site}"
    return site


def analyse_raw(profile: Profile, categorise: Callable[[list[Frame]], str] | None = None) -> None:
    """Self and inclusive shares from py-spy's collapsed stacks ('a;b;c count' per line);
    `categorise` (frames, outermost first) names what a sample was spent on."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    on_stack: Counter[str] = Counter()
    db_sites: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    total = 0
    for line in profile.raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [
            f for f in stack.split(";") if " (" in f and not f.startswith(("process ", "thread ("))
        ]
        if not frames:
            continue
        names = [frame_name(f) for f in frames]
        leaf = names[-1]
        if leaf[0] in WAITING_FUNCS or leaf[1] in WAITING_LINES:
            profile.idle_samples += count
            continue
        total += count
        root = names[0][0]
        threads["event loop thread" if "Thread._bootstrap" not in root else "other threads"] += (
            count
        )
        own[leaf[1]] += count
        packages[leaf[2]] += count
        for name in {n[0] for n in names}:
            inclusive[name] += count
        for package in {n[2] for n in names}:
            on_stack[package] += count
        if any(n[2] in DB_PACKAGES for n in names):
            db_sites[_db_site(names)] += count
        if categorise is not None:
            categories[categorise(names)] += count
    profile.samples = total
    if total:
        profile.threads = [(k, v / total) for k, v in threads.most_common()]
        profile.self_top = [(k, v / total) for k, v in own.most_common(25)]
        profile.inclusive_top = [
            (k, v / total) for k, v in inclusive.most_common() if "(kyodo/" in k
        ][:30]
        profile.db_sites = [(k, v / total) for k, v in db_sites.most_common(15)]
        profile.on_stack = [
            (k, v / total)
            for k, v in on_stack.most_common()
            if k not in ("<frozen runpy>", "typer", "threading", "asyncio", "kyodo.cli")
        ][:20]
        profile.packages = [(k, v / total) for k, v in packages.most_common(15)]
        profile.categories = [(k, v / total) for k, v in categories.most_common()]


def analyse_native(profile: Profile) -> None:
    """What each thread was doing in the `--native --idle` sample: running, idle, or (SQLite)
    asleep in the busy handler waiting for another connection's write lock."""
    if profile.native is None or not profile.native.exists():
        return
    found: Counter[tuple[str, str]] = Counter()
    for line in profile.native.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if count_text.isdigit():
            found[_native_state(stack)] += int(count_text)
    profile.native_samples = sum(found.values())
    profile.native_shares = sorted(found.items())


async def record(
    profile: Profile,
    pid: int,
    seconds: float,
    work: Callable[[], Awaitable[T]],
    categorise: Callable[[list[Frame]], str] | None = None,
) -> T:
    """Runs `work` (a step of about `seconds`) while py-spy samples process `pid`: a flame
    graph (profile.svg), collapsed stacks (profile.raw, 100 Hz, blocking mode) and, if
    profile.native is set, a `--native --idle` sample at 5 Hz; then analyses them."""
    spy = py_spy()
    if spy is None:
        profile.errors.append("py-spy not found: no profile (pip install py-spy)")
        return await work()
    profile.raw.parent.mkdir(parents=True, exist_ok=True)
    duration = str(max(1, int(seconds) - 1))
    # Blocking mode (py-spy pauses the server ~100 times a second): with --nonblocking the
    # stacks read from a running process are less accurate.
    common = ["--pid", str(pid), "--duration", duration, "--rate", "100"]
    commands = [
        [spy, "record", "-o", str(profile.svg), *common, "--nonblocking"],  # the picture only
        [spy, "record", "--format", "raw", "-o", str(profile.raw), *common],
    ]
    if profile.native is not None:
        # Native unwinding of every thread pauses the server longest: a few samples a second.
        native = ["--pid", str(pid), "--duration", duration, "--rate", "5", "--native", "--idle"]
        commands.append([spy, "record", "--format", "raw", "-o", str(profile.native), *native])
    procs = [
        await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        for command in commands
    ]
    try:
        await asyncio.sleep(0.5)  # let py-spy attach
        result = await work()
        for proc in procs:
            _, err = await asyncio.wait_for(proc.communicate(), 60)
            if proc.returncode:
                profile.errors.append(f"py-spy: {err.decode(errors='replace')[-500:]}")
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.wait(), 10)
    if profile.raw.exists():
        analyse_raw(profile, categorise)
    analyse_native(profile)
    return result


def native_lines(profile: Profile) -> list[str]:
    per_thread: Counter[str] = Counter()
    for (thread, _), count in profile.native_shares:
        per_thread[thread] += count
    return [
        f"- {thread}: "
        + ", ".join(
            f"{state} {count / per_thread[thread]:.0%}"
            for (t, state), count in sorted(profile.native_shares, key=lambda x: -x[1])
            if t == thread
        )
        for thread in sorted(per_thread)
    ]


def profile_markdown(profile: Profile, intro: list[str]) -> list[str]:
    """The profile as Markdown: a heading, `intro` (what ran while sampling), then the shares."""
    lines = ["", f"### Server profile ({profile.name}, py-spy, {profile.samples} samples)", ""]
    lines += intro
    lines += [
        "Samples by thread: "
        + ", ".join(f"{name} {share:.1%}" for name, share in profile.threads)
        + f" ({profile.idle_samples} idle samples left out: event loop in epoll, idle worker "
        "threads).",
        "",
    ]
    if profile.categories:
        lines += ["Where the time goes (each sample counted once, by its innermost frame):", ""]
        lines += [f"- {name}: {share:.1%}" for name, share in profile.categories]
        lines.append("")
    lines += ["Self time by package (leaf frame):", ""]
    lines += [f"- {name}: {share:.1%}" for name, share in profile.packages]
    if profile.native_samples:
        lines += [
            "",
            f"What the threads were doing (`py-spy --native --idle`, 5 Hz, "
            f"{profile.native_samples} thread samples):",
            "",
        ]
        lines += native_lines(profile)
    lines += ["", "Top functions, self time:", ""]
    lines += [f"- {share:.1%} `{name}`" for name, share in profile.self_top]
    if profile.db_sites:
        lines += [
            "",
            "Database work (SQLAlchemy/driver on the stack) by the Kyodo line issuing it:",
            "",
        ]
        lines += [f"- {share:.1%} `{name}`" for name, share in profile.db_sites]
    lines += ["", "Packages on the stack (share of samples with any frame of the package):", ""]
    lines += [f"- {name}: {share:.1%}" for name, share in profile.on_stack]
    lines += [
        "",
        "Kyodo functions, inclusive (share of samples with the function on the stack):",
        "",
    ]
    lines += [f"- {share:.1%} `{name}`" for name, share in profile.inclusive_top]
    lines += [f"- {text}" for text in profile.errors]
    return lines


def print_profile(profile: Profile, say: Callable[[str], None]) -> None:
    """The main shares on the console."""
    say(f"py-spy, {profile.name} ({profile.samples} samples)")
    for name, share in profile.categories:
        say(f"  category {share:6.1%}  {name}")
    for name, share in profile.self_top[:12]:
        say(f"  self {share:6.1%}  {name}")
    for name, share in profile.on_stack[:8]:
        say(f"  on stack {share:6.1%}  {name}")
    for name, share in profile.inclusive_top[:15]:
        say(f"  inclusive {share:6.1%}  {name}")
    for name, share in profile.db_sites[:10]:
        say(f"  database {share:6.1%}  {name}")
    for line in native_lines(profile):
        say(f"  native {line[2:]}")
    for text in profile.errors:
        say(f"  {text}")
