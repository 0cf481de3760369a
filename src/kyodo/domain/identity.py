"""Organisations and people: who works in the combined headquarters, and their clearances."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from kyodo.policy import Subject

if TYPE_CHECKING:
    from kyodo.labels import Label


class Role(StrEnum):
    """What a person may administer beyond what their clearance lets them read."""

    ADMIN = "admin"
    SECURITY_OFFICER = "security_officer"
    RECORDS_OFFICER = "records_officer"
    MEMBER = "member"
    # May post despite the spillage guard, with a written justification that is audited.
    MAY_OVERRIDE = "may_override"
    # May lower a message's label (an audited downgrade with a written justification).
    MAY_DOWNGRADE = "may_downgrade"


@dataclass(frozen=True, slots=True)
class Org:
    """A command or component (USFJ, JJOC…), in a tree per nation, with an optional counterpart."""

    id: str
    abbr: str
    name: str
    nation: str
    label: Label
    name_ja: str | None = None
    parent_id: str | None = None
    counterpart_id: str | None = None
    sources: tuple[str, ...] = ()


UI_LANGUAGES = ("en", "ja")  # the languages of the web UI's catalogue


@dataclass(frozen=True, slots=True)
class Person:
    """A person with an account: nation, clearance in their scheme, grants, roles and org."""

    id: str
    username: str
    name: str
    nation: str
    clearance: str
    clearance_rank: int
    label: Label
    name_ja: str | None = None
    grants: frozenset[str] = frozenset()
    roles: frozenset[Role] = frozenset({Role.MEMBER})
    org_id: str | None = None
    active: bool = True
    version: int = 1
    releasability_grants: frozenset[str] = field(default_factory=frozenset)
    language: str | None = None  # the UI language the person chose (not part of the subject)

    def subject(self) -> Subject:
        """The person as the policy sees them."""
        return Subject(
            id=self.id,
            nation=self.nation,
            clearance=self.clearance,
            clearance_rank=self.clearance_rank,
            grants=self.grants,
            roles=frozenset(r.value for r in self.roles),
            org=self.org_id,
            releasability_grants=self.releasability_grants,
        )
