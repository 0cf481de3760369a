"""`kyodo label …`: parse, join, compare, render and check security labels from the shell."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from kyodo.errors import KyodoError, NoEquivalentError
from kyodo.labels import (
    Label,
    SchemeRegistry,
    join_all,
    label_from_xml,
    label_to_dict,
    label_to_xml,
    parse_marking,
    render_marking,
)
from kyodo.policy import Action, Resource, decide, make_subject
from kyodo.scheme_files import load_registry
from kyodo.settings import Settings

app = typer.Typer(help="Security labels: parse, join, compare, render, XML, access checks.")

PolicyOpt = Annotated[
    str | None, typer.Option("--policy", help="Scheme to read the marking in (default: detect).")
]


def _fail(exc: KyodoError) -> typer.Exit:
    typer.echo(f"error: {exc.message}", err=True)
    return typer.Exit(2)


def _registry() -> SchemeRegistry:
    """The schemes the server uses: the shipped ones and those in KYODO_SCHEME_DIRS."""
    try:
        settings = Settings()
    except ValueError as exc:
        typer.echo(f"error: invalid settings: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        return _load(tuple(settings.scheme_dirs), settings.default_policy)
    except KyodoError as exc:
        raise _fail(exc) from None


@functools.cache
def _load(folders: tuple[Path, ...], default_policy: str) -> SchemeRegistry:
    return load_registry(folders, default_policy)


def _parse(marking: str, policy: str | None = None) -> Label:
    try:
        return parse_marking(marking, _registry(), policy)
    except KyodoError as exc:
        raise _fail(exc) from None


@app.command("parse")
def parse_cmd(
    marking: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    policy: PolicyOpt = None,
) -> None:
    """Print the canonical banner and portion marking (exit 2 if invalid)."""
    registry = _registry()
    label = _parse(marking, policy)
    if as_json:
        typer.echo(json.dumps(label_to_dict(label, registry), ensure_ascii=False))
    else:
        typer.echo(render_marking(label, registry))
        typer.echo(render_marking(label, registry, portion=True))


@app.command("join")
def join_cmd(markings: list[str]) -> None:
    """Print the canonical marking of the join (least upper bound) of the markings."""
    labels = [_parse(m) for m in markings]
    try:
        registry = _registry()
        typer.echo(render_marking(registry.fit(join_all(*labels)), registry))
    except KyodoError as exc:
        # A join across schemes can hold categories its policy cannot write (US SI in JPN).
        raise _fail(exc) from None


@app.command("dominates")
def dominates_cmd(a: str, b: str) -> None:
    """Print `yes` (exit 0) if A dominates B, else `no` (exit 1)."""
    if _parse(a).dominates(_parse(b)):
        typer.echo("yes")
        return
    typer.echo("no")
    raise typer.Exit(1)


@app.command("render")
def render_cmd(
    marking: str,
    scheme: Annotated[str, typer.Option("--scheme", help="Target scheme, e.g. JPN.")],
    portion: Annotated[bool, typer.Option("--portion", help="Portion form.")] = False,
) -> None:
    """Print the marking in another nation's scheme, or say why it has no equivalent."""
    registry = _registry()
    label = _parse(marking)
    try:
        typer.echo(render_marking(label, registry, scheme=scheme, portion=portion))
    except NoEquivalentError as exc:
        typer.echo(f"no equivalent: {exc.message}", err=True)
        raise typer.Exit(1) from None
    except KyodoError as exc:
        raise _fail(exc) from None


@app.command("xml")
def xml_cmd(marking: str) -> None:
    """Print the label as STANAG 4774-style XML."""
    typer.echo(label_to_xml(_parse(marking), _registry()), nl=False)


@app.command("from-xml")
def from_xml_cmd(
    file: Annotated[str, typer.Argument(help="An XML file, or - for standard input.")],
) -> None:
    """Read a STANAG 4774-style XML label and print its canonical marking."""
    registry = _registry()
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    try:
        label = label_from_xml(data, registry)
    except KyodoError as exc:
        raise _fail(exc) from None
    typer.echo(render_marking(label, registry))


@app.command("check")
def check_cmd(
    marking: str,
    nation: Annotated[str, typer.Option("--nation", help="Reader's nation (alpha-3).")],
    clearance: Annotated[str, typer.Option("--clearance", help="Reader's clearance level.")],
    grant: Annotated[
        list[str] | None, typer.Option("--grant", help="A restrictive category held (repeat).")
    ] = None,
) -> None:
    """Print whether such a reader may read the marking, with reasons (exit 0 yes, 1 no)."""
    registry = _registry()
    label = _parse(marking)
    try:
        subject = make_subject(
            registry, id="cli", nation=nation, clearance=clearance, grants=grant or ()
        )
    except KyodoError as exc:
        raise _fail(exc) from None
    decision = decide(subject, Action.READ, Resource(label))
    if decision.allowed:
        typer.echo(
            f"allowed: {subject.nation} {subject.clearance} may read "
            f"{render_marking(label, registry)}"
        )
        return
    typer.echo(f"denied: {render_marking(label, registry)}")
    for reason in decision.reasons:
        typer.echo(f"  - {reason}")
    raise typer.Exit(1)
