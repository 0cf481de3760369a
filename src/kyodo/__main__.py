"""`python -m kyodo` runs the CLI."""

from kyodo.cli import app

app()
