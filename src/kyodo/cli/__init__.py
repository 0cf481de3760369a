"""The `kyodo` command line: one Typer app with a sub-command group per concern."""

from __future__ import annotations

import typer

from kyodo import __version__
from kyodo.cli import actions, audit, cert, cot, export, guard, label, server, tokens, users

app = typer.Typer(
    help="Kyodo: labelled, policy-checked workspace for a combined headquarters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(label.app, name="label")
app.add_typer(users.app, name="user")
app.add_typer(tokens.app, name="token")
app.add_typer(audit.app, name="audit")
app.add_typer(export.app, name="export")
app.add_typer(guard.app, name="guard")
app.add_typer(cot.app, name="cot")
app.add_typer(cert.app, name="cert")
app.add_typer(actions.app, name="action")
app.command("init")(server.init)
app.command("serve")(server.serve)
app.command("demo")(server.demo)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
