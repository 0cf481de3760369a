"""Loads marking schemes from the package and a deployment's folders (the I/O edge of labels)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import pycountry

from kyodo.errors import SchemeError
from kyodo.labels import Scheme, SchemeRegistry, scheme_from_mapping

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


@cache
def iso_alpha3_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-3 code, from pycountry's copy of the standard."""
    return frozenset(str(country.alpha_3) for country in pycountry.countries)


def _parse(text: str, origin: str) -> Scheme:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{origin}: not valid TOML: {exc}") from None
    return scheme_from_mapping(data, iso_alpha3_codes())


def load_registry(extra_dirs: Iterable[Path] = (), default_policy: str = "USA") -> SchemeRegistry:
    """The shipped schemes (USA, JPN, NATO) plus every `*.toml` in `extra_dirs` (later wins)."""
    schemes: dict[str, Scheme] = {}
    for entry in sorted(
        resources.files("kyodo.labels").joinpath("schemes").iterdir(), key=lambda e: e.name
    ):
        if entry.name.endswith(".toml"):
            scheme = _parse(entry.read_text(encoding="utf-8"), f"package scheme {entry.name}")
            schemes[scheme.policy] = scheme
    for folder in extra_dirs:
        if not folder.is_dir():
            raise SchemeError(f"scheme folder {folder} does not exist")
        for path in sorted(folder.glob("*.toml")):
            scheme = _parse(path.read_text(encoding="utf-8"), str(path))
            schemes[scheme.policy] = scheme
    return SchemeRegistry(schemes, iso_alpha3_codes(), default_policy)


@cache
def default_registry() -> SchemeRegistry:
    """The shipped schemes only; cached because they never change in a running process."""
    return load_registry()
