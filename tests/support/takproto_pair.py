"""takproto (snstac's, which pytak reads with) and better-takproto (cotdantic's) both install a
package named `takproto`: each owns its `__init__.py`, and whichever pip installs last wins. The
other's modules are still there (`takproto.functions`, `takproto.constants`;
`takproto.takproto`), so the tests put both public faces on the one package, in either order.
Kyodo itself imports only `takproto.proto`, which both leave alone; production installs no
cotdantic."""

from __future__ import annotations

import importlib

import takproto

SNSTAC = ("xml2proto", "parse_proto", "parse_mesh", "parse_stream", "format_time")


def both_faces() -> None:
    """Make `takproto` answer for pytak (snstac's functions) and cotdantic (betterproto's
    TakMessage and the rest), whichever `__init__` is installed."""
    functions = importlib.import_module("takproto.functions")
    constants = importlib.import_module("takproto.constants")
    for name in SNSTAC:
        if not hasattr(takproto, name):
            setattr(takproto, name, getattr(functions, name))
    if not hasattr(takproto, "TAKProtoVer"):
        takproto.TAKProtoVer = constants.TAKProtoVer
    try:
        better = importlib.import_module("takproto.takproto")
    except ImportError:
        return  # cotdantic is not installed
    for name in dir(better):
        if not name.startswith("_") and not hasattr(takproto, name):
            setattr(takproto, name, getattr(better, name))
