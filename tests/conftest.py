"""Root fixtures: real database back-ends and service contexts (tests/support/fixtures.py)."""

pytest_plugins = ["tests.support.fixtures"]
