"""The `kyodo` command line: one Typer app with a sub-command group per concern."""

from __future__ import annotations

import typer

from kyodo import __version__
from kyodo.cli import label

app = typer.Typer(
    help="Kyodo: labelled, policy-checked workspace for a combined headquarters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(label.app, name="label")


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
