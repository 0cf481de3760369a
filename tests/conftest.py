"""Root fixtures: real database back-ends and service contexts (tests/support/fixtures.py),
and the markers the lanes select on (`make test-fast` leaves out slow, browser, postgres)."""

import os
import tempfile

import pytest

from tests.support.takproto_pair import both_faces

# Audit seal files of databases without a folder of their own (PostgreSQL) default to the
# user's state folder: the tests' go to a folder of their own (inherited by CLI processes).
# Made at import, so once per test process: each xdist worker has its own.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="kyodo-test-state-")

# pytak and cotdantic each bring a package named `takproto` (tests/support/takproto_pair.py).
both_faces()

pytest_plugins = ["tests.support.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what a test needs from what it asks for: `postgres` for the PostgreSQL half of a
    `database_url` test (or a test that takes the template itself), `browser` for chromium."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        backend = params.get("database_url", params.get("shared_server"))
        if backend == "postgresql" or "pg_template" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        # Under `pytest -n --dist loadgroup` (make test) a group runs on one worker: the web
        # tests share one demo server (and the browser per module), the live-server tests one
        # server per back-end, instead of each worker starting its own.
        if item.nodeid.startswith("tests/web/") or "web_server" in fixtures:
            item.add_marker(pytest.mark.xdist_group("web"))
        elif "shared_server" in fixtures:
            item.add_marker(pytest.mark.xdist_group("live"))
