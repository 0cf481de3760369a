"""Root fixtures: real database back-ends and service contexts (tests/support/fixtures.py)."""

import os
import tempfile

# Audit seal files of databases without a folder of their own (PostgreSQL) default to the
# user's state folder: the tests' go to a folder of their own (inherited by CLI processes).
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="kyodo-test-state-")

pytest_plugins = ["tests.support.fixtures"]
