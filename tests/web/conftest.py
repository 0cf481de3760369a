"""Browser tests: a live demo server, Debian's chromium driven by Playwright, logged-in pages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live import ADMIN_PASSWORD, free_port, kyodo

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "kyodo-demo"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1280, "height": 800}


@dataclass
class DemoServer:
    """A `kyodo demo` process on a free port, and API clients logged in as demo people."""

    url: str
    database_url: str
    _clients: dict[str, httpx.Client] = field(default_factory=dict)

    def api(self, username: str) -> httpx.Client:
        """An httpx client logged in as `username` (cookie + CSRF header), reused."""
        if username not in self._clients:
            client = httpx.Client(base_url=self.url, timeout=15)
            password = ADMIN_PASSWORD if username == "admin" else PASSWORD
            login = client.post(
                "/api/v1/auth/login", json={"username": username, "password": password}
            )
            login.raise_for_status()
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            self._clients[username] = client
        return self._clients[username]

    def person_id(self, username: str) -> str:
        me = self.api(username).get("/api/v1/me")
        me.raise_for_status()
        value: str = me.json()["id"]
        return value

    def make_net(
        self,
        name: str,
        ceiling: str,
        members: list[str],
        *,
        owner: str = "us.j3",
        entry: str | None = None,
        default_label: str | None = None,
    ) -> str:
        """A net owned by `owner` with these members; returns its id."""
        owner_api = self.api(owner)
        body: dict[str, Any] = {"name": name, "ceiling": ceiling}
        if entry:
            body["entry"] = entry
        if default_label:
            body["default_label"] = default_label
        created = owner_api.post("/api/v1/nets", json=body)
        created.raise_for_status()
        net_id: str = created.json()["id"]
        for username in members:
            added = owner_api.post(
                f"/api/v1/nets/{net_id}/members", json={"person_id": self.person_id(username)}
            )
            added.raise_for_status()
        return net_id

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def _ensure_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK) and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "chromium", "fonts-noto-cjk"],
            check=False,
            capture_output=True,
        )
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def web_server() -> Iterator[DemoServer]:
    """`kyodo init` + `kyodo demo` (demo people, organisations, picture) on a free port."""
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite+aiosqlite:///{folder}/web.db"
        init = kyodo(
            "init", "--no-input", "--admin-password", ADMIN_PASSWORD, "--database-url", database_url
        )
        assert init.returncode == 0, init.stderr
        port = free_port()
        with tempfile.TemporaryFile(mode="w+") as log:
            proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "kyodo", "demo"),
                    *("--port", str(port), "--database-url", database_url),
                ],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "KYODO_COT_PORT": "0", "KYODO_COT_TLS_PORT": "0"},
            )
            url = f"http://127.0.0.1:{port}"
            server = DemoServer(url, database_url)
            try:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"demo server did not start: {log.read()[-3000:]}")
                    time.sleep(0.3)
                yield server
            finally:
                server.close()
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless (never a downloaded browser). Per module: the sync API
    keeps an event loop running while it is open, which asyncio tests cannot share."""
    _ensure_chromium()
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Fresh browser contexts (separate cookies: one per person), closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**{"viewport": VIEWPORT, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def console_errors() -> Callable[[Any], list[str]]:
    """`console_errors(page)`: script errors and console.error messages seen on that page."""
    seen: dict[int, list[str]] = {}

    def errors(page: Any) -> list[str]:
        return seen.setdefault(id(page), [])

    errors.seen = seen  # type: ignore[attr-defined]
    return errors


@pytest.fixture
def login(
    web_server: DemoServer, console_errors: Callable[[Any], list[str]]
) -> Iterator[Callable[..., Any]]:
    """`login(context, username)`: a new page in that context, logged in on the home page."""

    chosen: set[str] = set()

    def do_login(context: Any, username: str, *, lang: str | None = None) -> Any:
        if lang is not None:
            context.add_cookies([{"name": "kyodo_lang", "value": lang, "url": web_server.url}])
            # The person's stored choice wins over the cookie: another test may have made one.
            web_server.api(username).put(
                "/api/v1/me/language", json={"language": lang}
            ).raise_for_status()
            chosen.add(username)
        page = context.new_page()
        errors = console_errors(page)
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{web_server.url}/login")
        page.fill("#username", username)
        page.fill("#password", ADMIN_PASSWORD if username == "admin" else PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(f"{web_server.url}/")
        return page

    yield do_login
    for username in chosen:  # back to following the browser, as the demo people start
        web_server.api(username).put(
            "/api/v1/me/language", json={"language": None}
        ).raise_for_status()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """`screenshot(page, name)`: the viewport (banners included) as
    tests/web/artifacts/<test>-<name>.png (git-ignored)."""

    def save(page: Any, name: str = "page") -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path))
        return path

    return save
