"""Request and response bodies of the REST API (pydantic; the edge only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kyodo.audit.chain import AuditRecord
from kyodo.domain.identity import Org, Person
from kyodo.domain.nets import Net
from kyodo.labels import Label, SchemeRegistry, label_to_dict
from kyodo.services.ports import SessionRecord

# A label is a JSON object (see LabelOut) or a marking string such as "SECRET//REL TO USA, JPN".
LabelIn = dict[str, Any] | str
Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
Text = Field(min_length=1, max_length=300)


class Strict(BaseModel):
    """Bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class LabelOut(BaseModel):
    """A label with its canonical markings."""

    policy: str
    classification: str
    level: int
    restrictive: list[str]
    releasable_to: list[str] | None
    informative: list[str]
    marking: str
    portion: str

    @classmethod
    def of(cls, label: Label, registry: SchemeRegistry) -> LabelOut:
        return cls(**label_to_dict(label, registry))


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


TokenScope = Literal["read", "write", "admin"]


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[TokenScope] = Field(
        default=["read"],
        min_length=1,
        max_length=3,
        description="read: GET and the stream; write: everything else; admin: use your "
        "administrative roles. A token minted by a token gets no scope it lacks.",
    )
    expires_in_days: float | None = Field(
        default=None,
        gt=0,
        le=36500,  # the server's maximum is lower; this only keeps the arithmetic finite
        allow_inf_nan=False,
        description="Default and maximum: the server's settings.",
    )


class TokenInfo(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    parent_id: str | None
    current: bool = Field(description="The token this request came with.")

    @classmethod
    def of(cls, record: SessionRecord, current: str | None = None) -> TokenInfo:
        return cls(
            id=record.id,
            name=record.name,
            scopes=sorted(record.scopes or ()),
            created_at=record.created_at,
            expires_at=record.expires_at,
            parent_id=record.parent_id,
            current=current is not None and record.id == current,
        )


class TokenOut(TokenInfo):
    token: str = Field(description="The secret: shown this once, never again.")


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


class LoginOut(BaseModel):
    person: PersonOut
    csrf_token: str


class ParseIn(Strict):
    marking: str = Field(min_length=1, max_length=1000)
    policy: str | None = Field(default=None, max_length=32)


class RenderIn(Strict):
    label: LabelIn
    scheme: str | None = Field(default=None, max_length=32)
    portion: bool = False


class RenderOut(BaseModel):
    marking: str
    scheme: str
    original: str
    note: str | None


class OrgPage(BaseModel):
    items: list[OrgOut]
    next_cursor: str | None


class PersonPage(BaseModel):
    items: list[PersonOut]
    next_cursor: str | None


class AuditOut(BaseModel):
    """A record, or (`redacted`) the stub of one whose label the reader may not read: then
    object_id, decision, label, reasons and details are absent (null/empty)."""

    seq: int
    time: str
    actor: str
    action: str
    object_type: str
    object_id: str | None = None
    decision: str | None = None
    label: dict[str, Any] | None = None
    reasons: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str
    redacted: bool = False

    @classmethod
    def of(cls, record: AuditRecord) -> AuditOut:
        return cls(**record.as_dict())


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


class Health(BaseModel):
    status: str
    database: str


class NetIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    purpose: str = Field(default="", max_length=1000)
    org_id: str | None = Field(default=None, max_length=64)
    ceiling: LabelIn
    entry: LabelIn | None = None
    default_label: LabelIn | None = None
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    # The label of the net's name, purpose and members (default: the entry label).
    label: LabelIn | None = None


class NetPatch(Strict):
    purpose: str | None = Field(default=None, max_length=1000)
    ceiling: LabelIn | None = None
    entry: LabelIn | None = None
    default_label: LabelIn | None = None
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    label: LabelIn | None = None


class NetOut(BaseModel):
    id: str
    name: str
    purpose: str
    org_id: str | None
    ceiling: LabelOut
    entry: LabelOut
    default_label: LabelOut
    label: LabelOut
    retention_days: int
    multi_level: bool
    created_at: str

    @classmethod
    def of(cls, net: Net, registry: SchemeRegistry) -> NetOut:
        return cls(
            id=net.id,
            name=net.name,
            purpose=net.purpose,
            org_id=net.org_id,
            ceiling=LabelOut.of(net.ceiling, registry),
            entry=LabelOut.of(net.entry, registry),
            default_label=LabelOut.of(net.default_label, registry),
            label=LabelOut.of(net.meta_label, registry),
            retention_days=net.retention_days,
            multi_level=net.multi_level,
            created_at=net.created_at.isoformat(),
        )


class ReadMarkerIn(Strict):
    seq: int = Field(ge=0, le=2**31 - 1, description="The last message seq you have seen.")


class ReadMarkerOut(BaseModel):
    net_id: str
    last_read: int


class MemberIn(Strict):
    person_id: str = Field(min_length=1, max_length=64)
    role: str = Field(default="member", pattern="^(owner|member|read_only)$")


class MemberOut(BaseModel):
    net_id: str
    person_id: str
    role: str
    added_at: str


class MessageIn(Strict):
    text: str = Field(min_length=1, max_length=20000)
    label: LabelIn | None = None
    reply_to: int | None = Field(default=None, ge=1, le=2**31 - 1)
    override_justification: str | None = Field(default=None, max_length=2000)


class MessageEdit(Strict):
    text: str = Field(min_length=1, max_length=20000)
    label: LabelIn | None = None
    override_justification: str | None = Field(default=None, max_length=2000)


class MessageDowngrade(Strict):
    label: LabelIn
    justification: str = Field(min_length=10, max_length=2000)


class MessageOut(BaseModel):
    seq: int
    rev: int
    net_id: str
    author_id: str
    author: str
    label: LabelOut
    text: str | None
    html: str | None
    reply_to: int | None
    version: int
    created_at: str
    edited_at: str | None
    deleted: bool


class PostedOut(BaseModel):
    message: MessageOut
    guard_findings: list[dict[str, Any]]


class MessagePage(BaseModel):
    items: list[MessageOut]
    banner: LabelOut | None


class VersionOut(BaseModel):
    version: int
    text: str
    label: LabelOut
    editor_id: str
    at: str


class GuardCheckIn(Strict):
    text: str = Field(min_length=1, max_length=20000)
    label: LabelIn
    net_id: str | None = Field(default=None, max_length=64)


class Recipient(BaseModel):
    person_id: str
    username: str
    name: str
    nation: str


class GuardCheckOut(BaseModel):
    refused: bool
    suggested: LabelOut
    findings: list[dict[str, Any]]
    above_ceiling: bool | None
    recipients: list[Recipient] | None
    recipients_by_nation: dict[str, int] | None


class FeedIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    ceiling: LabelIn
    entry: LabelIn | None = None
    default_label: LabelIn | None = None


class FeedOut(BaseModel):
    id: str
    name: str
    description: str
    ceiling: LabelOut
    entry: LabelOut
    default_label: LabelOut


class TrackIn(Strict):
    uid: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100, examples=["a-f-S-C-L-CC"])
    callsign: str = Field(min_length=1, max_length=200)
    feed_id: str = Field(min_length=1, max_length=64)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    hae: float = Field(default=9999999.0, ge=-20000, le=9999999.0)
    ce: float = Field(default=9999999.0, ge=0, le=9999999.0)
    le: float = Field(default=9999999.0, ge=0, le=9999999.0)
    course: float | None = Field(default=None, ge=0, le=360)
    speed: float | None = Field(default=None, ge=0, le=100000)
    stale_seconds: int = Field(default=300, ge=1, le=7 * 86400)
    remarks: str = Field(default="", max_length=2000)
    label: LabelIn | None = None


class TrackOut(BaseModel):
    uid: str
    type: str
    sidc: str
    callsign: str
    lat: float
    lon: float
    hae: float
    ce: float
    le: float
    course: float | None
    speed: float | None
    time: str
    start: str
    stale: str
    how: str
    remarks: str
    feed_id: str
    label: LabelOut


class PositionOut(BaseModel):
    lat: float
    lon: float
    hae: float
    course: float | None
    speed: float | None
    time: str


class TrackHistoryOut(BaseModel):
    track: TrackOut
    positions: list[PositionOut]
