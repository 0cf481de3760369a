"""The relational schema; Alembic migrations under store/migrations build exactly this."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Labels are interned: one row per distinct label, shared by every object that carries it, with
# its categories normalised so a query can keep only the rows a subject may read.
labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("policy", String(32), nullable=False),
    Column("level", String(64), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("rel_restricted", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    sqlite_autoincrement=True,  # an id is never handed out twice (migration 0007)
)

label_categories = Table(
    "label_categories",
    metadata,
    Column("label_id", Integer, ForeignKey("labels.id"), primary_key=True),
    # R restrictive, P permissive (releasability nation), I informative
    Column("kind", String(1), primary_key=True),
    Column("value", String(64), primary_key=True),
)

orgs = Table(
    "orgs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("abbr", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_ja", Text),
    Column("nation", String(32), nullable=False),  # "USA", or "USA+JPN" for a combined body
    Column("parent_id", String(64), ForeignKey("orgs.id")),
    Column("counterpart_id", String(64), ForeignKey("orgs.id")),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("sources", Text, nullable=False, default="[]"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

people = Table(
    "people",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("name_ja", Text),
    Column("nation", String(3), nullable=False),
    Column("clearance", String(64), nullable=False),
    Column("clearance_rank", Integer, nullable=False),
    Column("grants", Text, nullable=False, default="[]"),
    Column("releasability_grants", Text, nullable=False, default="[]"),
    Column("roles", Text, nullable=False, default="[]"),
    Column("org_id", String(64), ForeignKey("orgs.id")),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("language", String(8)),  # the web UI's language the person chose; NULL: not yet
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("csrf_hash", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("id", String(32), index=True, unique=True),
    Column("scopes", String(64)),  # space-separated; NULL for a login session (everything)
    Column("parent_id", String(32), index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Assigned as last + 1 under a lock, never by the database, so a gap means a deletion.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("label", Text),
    Column("reasons", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
Index("ix_audit_log_actor", audit_log.c.actor)
Index("ix_audit_log_action", audit_log.c.action)
Index("ix_audit_log_object", audit_log.c.object_type, audit_log.c.object_id)
Index("ix_audit_log_time", audit_log.c.time)
Index("ix_label_categories_value", label_categories.c.kind, label_categories.c.value)

nets = Table(
    "nets",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("purpose", Text, nullable=False, default=""),
    Column("org_id", String(64), ForeignKey("orgs.id")),
    Column("ceiling_label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("entry_label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("default_label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    # The label of the net's name, purpose and members when lower than its entry label.
    Column("label_id", Integer, ForeignKey("labels.id")),
)

net_members = Table(
    "net_members",
    metadata,
    Column("net_id", String(64), ForeignKey("nets.id"), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    # The seq of the last message the member has seen here (unread counts on any device).
    Column("last_read", Integer, nullable=False, server_default=text("0")),
)
Index("ix_net_members_person", net_members.c.person_id)

messages = Table(
    "messages",
    metadata,
    # One sequence for the whole server: clients resume a stream with the last seq they saw.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("net_id", String(64), ForeignKey("nets.id"), nullable=False),
    Column("author_id", String(64), ForeignKey("people.id"), nullable=False),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("reply_to", Integer, ForeignKey("messages.seq")),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("deleted_by", String(64)),
    Column("purged", Boolean, nullable=False, default=False),
    # The audit seq of the message's latest change (post, edit, delete, purge): global, gapless
    # in commit order, so a live client resumes with the last rev it saw.
    Column("rev", Integer, nullable=False, default=0),
    sqlite_autoincrement=True,  # a seq is never handed out twice (migration 0007)
)
Index("ix_messages_net_seq", messages.c.net_id, messages.c.seq)

# The GeoChat messageId a TAK client gave a message it posted: its receipts name it so.
chat_refs = Table(
    "chat_refs",
    metadata,
    Column("ref", String(200), primary_key=True),
    Column("message_seq", Integer, ForeignKey("messages.seq"), nullable=False),
)

# Delivered and read receipts: the first of each kind per message and person.
chat_receipts = Table(
    "chat_receipts",
    metadata,
    Column("message_seq", Integer, ForeignKey("messages.seq"), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_messages_rev", messages.c.rev)

message_versions = Table(
    "message_versions",
    metadata,
    Column("message_seq", Integer, ForeignKey("messages.seq"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("editor_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("ceiling_label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("entry_label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("default_label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tracks = Table(
    "tracks",
    metadata,
    Column("uid", String(200), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("sidc", String(30), nullable=False),
    Column("callsign", String(200), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("hae", Float, nullable=False),
    Column("ce", Float, nullable=False),
    Column("le", Float, nullable=False),
    Column("course", Float),
    Column("speed", Float),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("stale", DateTime(timezone=True), nullable=False),
    Column("how", String(20), nullable=False),
    Column("remarks", Text, nullable=False, default=""),
    Column("detail_xml", Text, nullable=False, default=""),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("feed_id", String(64), ForeignKey("feeds.id"), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The subject id of the first reporter, never changed by an update ("" if unknown).
    Column("originator", String(200), nullable=False, server_default=""),
    # The latest report as its sender's CoT XML, byte for byte: what the connect snapshot
    # replays (relabelled). NULL when the latest report came from the API.
    Column("source_xml", LargeBinary),
    # A deleted track leaves the picture but keeps its row and history (for the record, and
    # so its uid stays its originator's); a new report allowed to update it brings it back.
    Column("deleted_at", DateTime(timezone=True)),
    Column("deleted_by", String(200)),
)
Index("ix_tracks_stale", tracks.c.stale)
Index("ix_tracks_lat_lon", tracks.c.lat, tracks.c.lon)

track_history = Table(
    "track_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(200), ForeignKey("tracks.uid"), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("hae", Float, nullable=False),
    Column("course", Float),
    Column("speed", Float),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
)
Index("ix_track_history_uid", track_history.c.uid, track_history.c.id)

person_certificates = Table(
    "person_certificates",
    metadata,
    # SHA-256 of the certificate's DER form, lower-case hex (kyodo.pki.names.fingerprint).
    Column("fingerprint", String(64), primary_key=True),
    Column("person_id", String(64), ForeignKey("people.id"), nullable=False, index=True),
    Column("subject", Text, nullable=False, default=""),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

# Files and data packages (TAK's Enterprise Sync), content in the row: the whole system is one
# database. One record per (content hash, label): the same bytes uploaded at another label are
# another record, each found only by readers of its own label.
files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("mime_type", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("keywords", Text, nullable=False, default="[]"),  # a JSON list
    Column("creator_uid", String(200), nullable=False, default=""),
    Column("submitter_id", String(200), nullable=False),
    Column("submitter", String(200), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("tool", String(20), nullable=False, default="public"),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("content", LargeBinary, nullable=False),
    # A deleted file keeps its row (for the record); it is no longer found or read.
    Column("deleted_at", DateTime(timezone=True)),
    Column("deleted_by", String(200)),
    sqlite_autoincrement=True,
)
Index("ix_files_sha256_label", files.c.sha256, files.c.label_id, unique=True)
Index("ix_files_submitted_at", files.c.submitted_at)
# Coordination actions (migration 0012): the core row, one row per labelled field value, the
# state history, comments, concurrences and signatures.
actions = Table(
    "actions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("owner_org", String(64), ForeignKey("orgs.id"), nullable=False),
    Column("opr_org", String(64), ForeignKey("orgs.id")),
    Column("ocr_orgs", Text, nullable=False, default="[]"),  # JSON list of org ids
    Column("creator_id", String(64), nullable=False),
    Column("action_officer_id", String(64)),
    Column("owning_net_id", String(64), ForeignKey("nets.id")),
    Column("bilateral", Boolean, nullable=False, default=False),
    Column("mutual_consent", Boolean, nullable=False, default=False),
    Column("priority", String(16), nullable=False),
    Column("state", String(32), nullable=False),
    # The core's label: who cannot read it does not know the action exists.
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("round", Integer, nullable=False, default=1),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_actions_owner_org", actions.c.owner_org)
Index("ix_actions_opr_org", actions.c.opr_org)

action_fields = Table(
    "action_fields",
    metadata,
    Column("action_id", String(64), ForeignKey("actions.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
)

action_transitions = Table(
    "action_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action_id", String(64), ForeignKey("actions.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("from_state", String(32), nullable=False),
    Column("to_state", String(32), nullable=False),
    Column("actor_id", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    sqlite_autoincrement=True,
)
Index("ix_action_transitions_action", action_transitions.c.action_id, action_transitions.c.id)

action_comments = Table(
    "action_comments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("action_id", String(64), ForeignKey("actions.id"), nullable=False, index=True),
    Column("org_id", String(64), nullable=False),
    Column("author_id", String(200), nullable=False),
    Column("type", String(16), nullable=False),
    Column("location", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("label_id", Integer, ForeignKey("labels.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decision", String(16)),
    Column("decision_reason", Text, nullable=False, default=""),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime(timezone=True)),
)

action_concurrences = Table(
    "action_concurrences",
    metadata,
    Column("action_id", String(64), ForeignKey("actions.id"), primary_key=True),
    Column("org_id", String(64), primary_key=True),
    Column("answer", String(32), nullable=False),
    Column("person_id", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("comment_id", String(64)),
    Column("status", String(16)),
    Column("level", String(32), nullable=False),
)

action_signatures = Table(
    "action_signatures",
    metadata,
    Column("action_id", String(64), ForeignKey("actions.id"), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("nation", String(32), primary_key=True),
    Column("person_id", String(200), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
