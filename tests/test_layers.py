"""The dependency direction: the pure core never imports services, storage or transports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "kyodo"

# What each layer may import from kyodo (itself always allowed).
ALLOWED = {
    "labels": {"kyodo.errors", "kyodo.labels"},
    "policy": {"kyodo.errors", "kyodo.labels", "kyodo.policy"},
    "domain": {"kyodo.errors", "kyodo.labels", "kyodo.policy", "kyodo.domain"},
    "audit": {"kyodo.errors", "kyodo.audit"},
    "spillage": {"kyodo.errors", "kyodo.labels", "kyodo.spillage"},
    # The CoT codec is sans-I/O: bytes in, events out (the TAK server does the I/O).
    "cot": {"kyodo.errors", "kyodo.labels", "kyodo.domain", "kyodo.cot"},
    # Events are data: what changed, under which label.
    "bus": {"kyodo.domain", "kyodo.labels", "kyodo.policy", "kyodo.bus"},
}
# Modules of the pure core must not do I/O, so they may not import these.
FORBIDDEN_IN_CORE = {
    "os",
    "socket",
    "sqlite3",
    "asyncio",
    "pathlib",
    "subprocess",
    "http",
    "urllib",
    "sqlalchemy",
    "fastapi",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _core_modules() -> list[tuple[str, Path]]:
    return [
        (layer, path)
        for layer in ALLOWED
        if (SRC / layer).is_dir()
        for path in sorted((SRC / layer).rglob("*.py"))
    ]


@pytest.mark.parametrize(("layer", "path"), _core_modules(), ids=lambda v: str(v))
def test_core_layer_imports_only_the_core(layer: str, path: Path) -> None:
    for name in _imports(path):
        if name.startswith("kyodo"):
            assert any(name == a or name.startswith(a + ".") for a in ALLOWED[layer]), (
                f"{path.relative_to(SRC)} imports {name}, outside the pure core"
            )
        assert name.split(".")[0] not in FORBIDDEN_IN_CORE, (
            f"{path.relative_to(SRC)} imports {name}: the core does no I/O"
        )


def test_the_walk_sees_the_core() -> None:
    layers = {layer for layer, _ in _core_modules()}
    assert {"labels", "policy", "domain", "audit", "spillage", "cot", "bus"} <= layers


def test_services_never_import_sqlalchemy_or_the_transports() -> None:
    for path in sorted((SRC / "services").rglob("*.py")):
        for name in _imports(path):
            assert not name.startswith(
                (
                    "sqlalchemy",
                    "fastapi",
                    "starlette",
                    "kyodo.api",
                    "kyodo.cli",
                    "kyodo.store",
                    "kyodo.takserver",
                    "kyodo.web",
                    "kyodo.demo",
                )
            ), f"{path.relative_to(SRC)} imports {name}"


def test_the_store_knows_only_the_ports_of_the_services() -> None:
    for path in sorted((SRC / "store").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("kyodo.services"):
                assert name == "kyodo.services.ports", f"{path.relative_to(SRC)} imports {name}"
            assert not name.startswith(
                ("kyodo.api", "kyodo.cli", "kyodo.takserver", "kyodo.web", "fastapi")
            ), f"{path.relative_to(SRC)} imports {name}"


# Transports do not reach into each other; only the app factory (api/app.py:create_app, which
# builds the context, the TAK server and installs the web pages) names them all.
COMPOSITION_ROOT = SRC / "api" / "app.py"
NOT_FROM = {
    "takserver": ("kyodo.api", "kyodo.web", "kyodo.cli", "kyodo.store"),
    "web": ("kyodo.takserver", "kyodo.cli", "kyodo.store"),
    "api": ("kyodo.web", "kyodo.takserver", "kyodo.cli", "kyodo.store"),
}


@pytest.mark.parametrize("layer", sorted(NOT_FROM))
def test_transports_do_not_import_each_other(layer: str) -> None:
    for path in sorted((SRC / layer).rglob("*.py")):
        if path == COMPOSITION_ROOT:
            continue
        for name in _imports(path) | _from_package_imports(path):
            assert not name.startswith(NOT_FROM[layer]), f"{path.relative_to(SRC)} imports {name}"


def _from_package_imports(path: Path) -> set[str]:
    """`from kyodo import web` names kyodo.web."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        f"kyodo.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "kyodo"
        for alias in node.names
    }


def test_the_cli_loads_no_http_stack_until_it_serves() -> None:
    """Operator commands start without FastAPI, Starlette or uvicorn (`kyodo serve` imports
    them when it runs): the context comes from `kyodo.wiring`, not from the HTTP app."""
    probe = (
        "import sys, kyodo.cli; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'kyodo.api.app') "
        "if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
