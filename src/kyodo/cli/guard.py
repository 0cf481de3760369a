"""`kyodo guard check`: would the spillage guard refuse this text under this label?"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from kyodo.errors import KyodoError
from kyodo.labels import Label, SchemeRegistry, parse_marking
from kyodo.scheme_files import load_registry
from kyodo.settings import Settings
from kyodo.spillage import GuardResult, check, render_label
from kyodo.spillage_files import load_rules

app = typer.Typer(
    help="Spillage guard: does a text look more sensitive than its label?",
    no_args_is_help=True,
)

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


@app.callback()
def guard() -> None:
    """The same rules as the server: the configured rules file, else the shipped rules."""


def _bad_input(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _read_text(text: str) -> str:
    if text != "-":
        return text
    try:
        return sys.stdin.read()
    except UnicodeDecodeError:
        raise _bad_input("standard input is not valid text in the locale's encoding") from None


@app.command("check")
def check_cmd(
    text: Annotated[str, typer.Argument(help="The message text, or - to read standard input.")],
    label: Annotated[
        str,
        typer.Option(
            "--label", metavar="MARKING", help="The message's label, e.g. 'UNCLASSIFIED'."
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print one object {"label", "suggested", "refused", "findings"}.'
        ),
    ] = False,
    lang: Annotated[
        str,
        typer.Option("--lang", metavar="en|ja", help="The language of the findings' advice."),
    ] = "en",
) -> None:
    """Print findings and the suggested label; exit 0 ok, 1 refused, 2 bad input."""
    if lang not in ("en", "ja"):
        raise _bad_input(f"--lang: 'en' or 'ja', not {lang!r}")
    try:
        settings = Settings()
    except ValidationError as exc:
        raise _bad_input(f"settings: {exc.errors()[0]['msg']}") from None
    try:
        registry = load_registry(settings.scheme_dirs, settings.default_policy)
        rules = load_rules(settings.guard_rules_file, registry)
        message_label = parse_marking(label, registry)
    except KyodoError as exc:
        raise _bad_input(exc.message) from None
    result = check(_read_text(text), message_label, rules, registry)
    if as_json:
        typer.echo(json.dumps(result.as_dict(registry), ensure_ascii=False))
    else:
        _print(result, registry, lang)
    if result.refused:
        raise typer.Exit(EXIT_REFUSED)


def _print(result: GuardResult, registry: SchemeRegistry, lang: str) -> None:
    def render(label: Label) -> str:
        return render_label(label, registry)

    typer.echo(f"label:     {render(result.label)}")
    typer.echo(f"suggested: {render(result.suggested)}")
    if result.refused:
        typer.echo("verdict:   REFUSED - the text looks more sensitive than its label")
    else:
        typer.echo("verdict:   ok - the label covers what the text looks like")
    if not result.findings:
        typer.echo("findings:  none")
        return
    typer.echo(f"findings:  {len(result.findings)}")
    for finding in result.findings:
        where = "above the label" if finding.above_label else "within the label"
        typer.echo(
            f"  [{finding.rule_id}] {finding.text!r} at {finding.start}-{finding.end}: "
            f"at least {render(finding.minimum)} ({where})"
        )
        advice = finding.explanation_ja if lang == "ja" else ""
        typer.echo(f"      {advice or finding.explanation}")
