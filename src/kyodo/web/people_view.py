"""People as pages show them: names and clearances in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence

from kyodo.domain.identity import Person
from kyodo.errors import LabelError
from kyodo.labels import SchemeRegistry
from kyodo.services import identity
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext
from kyodo.web.i18n import N_, translations

MAX_PEOPLE = 2000


async def readable_people(ctx: ServiceContext, actor: Actor) -> list[Person]:
    """Every person the actor may read (the directory's pages, followed)."""
    found: list[Person] = []
    cursor: str | None = None
    while len(found) < MAX_PEOPLE:
        page = await identity.list_people(ctx, actor, cursor, 200)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def display_name(person: Person, lang: str) -> str:
    """The Japanese name for Japanese readers where one is recorded."""
    return person.name_ja if lang == "ja" and person.name_ja else person.name


def clearance_text(person: Person, registry: SchemeRegistry, lang: str) -> str:
    """The clearance as its nation's scheme spells it (機密 KIMITSU; TOP SECRET)."""
    scheme = registry.nation_scheme(person.nation)
    if scheme is None:
        return person.clearance
    try:
        level = scheme.level(person.clearance)
    except LabelError:
        return person.clearance
    if level.banner != level.id:
        return f"{level.banner} {level.id}" if lang == "ja" else f"{level.id} ({level.banner})"
    japanese = registry.schemes.get("JPN")
    equivalent = japanese.level_at_rank(level.rank) if japanese and lang == "ja" else None
    if equivalent is not None and level.rank > 0:
        text = translations(lang).gettext("%(level)s (equivalent to %(japanese)s)")
        return text % {"level": level.id, "japanese": equivalent.banner}
    return level.id


def by_id(people: Sequence[Person]) -> dict[str, Person]:
    """People keyed by id."""
    return {p.id: p for p in people}


# Role names as pages show them (translated through the catalogue).
ROLE_NAMES = {
    "admin": N_("admin"),
    "security_officer": N_("security_officer"),
    "records_officer": N_("records_officer"),
    "may_override": N_("may_override"),
    "member": N_("member"),
    "owner": N_("owner"),
    "read_only": N_("read_only"),
}
