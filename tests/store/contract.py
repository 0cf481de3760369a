"""Shared pieces of the storage contract tests (tests/store/test_*_store.py): readers, labels and
people made through the real services, so each Protocol is exercised on a realistic database."""

from __future__ import annotations

from datetime import UTC, datetime

from kyodo.domain.identity import Person
from kyodo.labels import Label, parse_marking
from kyodo.policy import Subject, make_subject
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person, make_operator

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def label(ctx: ServiceContext, marking: str) -> Label:
    return parse_marking(marking, ctx.registry)


def reader(
    ctx: ServiceContext,
    nation: str = "USA",
    clearance: str = "TOP SECRET",
    grants: tuple[str, ...] = (),
    id: str = "reader",
) -> Subject:
    return make_subject(ctx.registry, id=id, nation=nation, clearance=clearance, grants=grants)


async def person(ctx: ServiceContext, username: str, **kw: object) -> Person:
    """A person made through the identity service (the stores' rows as the service writes them)."""
    return await add_person(ctx, make_operator(ctx), username, **kw)  # type: ignore[arg-type]
