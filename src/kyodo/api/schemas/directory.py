"""The directory: organisations and people, their passwords and language."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kyodo.api.schemas.base import Strict
from kyodo.api.schemas.labels import LabelIn, LabelOut
from kyodo.domain.identity import Org, Person
from kyodo.labels import SchemeRegistry

Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Text = Field(min_length=1, max_length=300)


class OrgIn(Strict):
    id: str = Code
    abbr: str = Field(min_length=1, max_length=64)
    name: str = Text
    name_ja: str | None = Field(default=None, max_length=300)
    nation: str = Field(min_length=3, max_length=32, description="USA, or USA+JPN if combined")
    parent_id: str | None = Field(default=None, max_length=64)
    counterpart_id: str | None = Field(default=None, max_length=64)
    label: LabelIn | None = None
    sources: list[str] = Field(default_factory=list, max_length=50)


class OrgPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    name_ja: str | None = Field(default=None, max_length=300)
    counterpart_id: str | None = Field(default=None, max_length=64)
    label: LabelIn | None = None


class OrgOut(BaseModel):
    id: str
    abbr: str
    name: str
    name_ja: str | None
    nation: str
    parent_id: str | None
    counterpart_id: str | None
    label: LabelOut
    sources: list[str]

    @classmethod
    def of(cls, org: Org, registry: SchemeRegistry) -> OrgOut:
        return cls(
            id=org.id,
            abbr=org.abbr,
            name=org.name,
            name_ja=org.name_ja,
            nation=org.nation,
            parent_id=org.parent_id,
            counterpart_id=org.counterpart_id,
            label=LabelOut.of(org.label, registry),
            sources=list(org.sources),
        )


class PersonIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    name: str = Text
    name_ja: str | None = Field(default=None, max_length=300)
    nation: str = Field(min_length=3, max_length=3)
    clearance: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, max_length=1024)
    grants: list[str] = Field(default_factory=list, max_length=50)
    releasability_grants: list[str] = Field(default_factory=list, max_length=50)
    roles: list[str] = Field(default_factory=lambda: ["member"], max_length=10)
    org_id: str | None = Field(default=None, max_length=64)
    label: LabelIn | None = None


class PersonPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    name_ja: str | None = Field(default=None, max_length=300)
    nation: str | None = Field(default=None, min_length=3, max_length=3)
    clearance: str | None = Field(default=None, min_length=1, max_length=64)
    grants: list[str] | None = Field(default=None, max_length=50)
    releasability_grants: list[str] | None = Field(default=None, max_length=50)
    roles: list[str] | None = Field(default=None, max_length=10)
    org_id: str | None = Field(default=None, max_length=64)
    label: LabelIn | None = None
    active: bool | None = None


class LanguageIn(Strict):
    language: str | None = Field(
        min_length=1, max_length=8, description="en or ja; null: follow the browser again"
    )


class PasswordIn(Strict):
    password: str = Field(min_length=1, max_length=1024)
    current_password: str | None = Field(
        default=None, max_length=1024, description="Required to change your own password."
    )
    approval: str | None = Field(
        default=None,
        max_length=64,
        description="Another administrator's reset request id: required to reset an "
        "administrator's or security officer's password (two-person rule).",
    )


class ResetRequestOut(BaseModel):
    request_id: str


class PersonOut(BaseModel):
    id: str
    username: str
    name: str
    name_ja: str | None
    nation: str
    clearance: str
    grants: list[str]
    releasability_grants: list[str]
    roles: list[str]
    org_id: str | None
    active: bool
    label: LabelOut
    language: str | None = None

    @classmethod
    def of(cls, person: Person, registry: SchemeRegistry) -> PersonOut:
        return cls(
            id=person.id,
            username=person.username,
            name=person.name,
            name_ja=person.name_ja,
            language=person.language,
            nation=person.nation,
            clearance=person.clearance,
            grants=sorted(person.grants),
            releasability_grants=sorted(person.releasability_grants),
            roles=sorted(r.value for r in person.roles),
            org_id=person.org_id,
            active=person.active,
            label=LabelOut.of(person.label, registry),
        )


class OrgPage(BaseModel):
    items: list[OrgOut]
    next_cursor: str | None


class PersonPage(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None
