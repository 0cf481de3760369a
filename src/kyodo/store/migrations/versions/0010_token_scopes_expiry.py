"""token ids, scopes, parents and expiry

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Tokens issued before this revision never expired and could do everything the person could:
# they now expire after the default lifetime and may read and write (not administer).
_EXISTING_TOKEN_DAYS = 30
_EXISTING_TOKEN_SCOPES = "read write"  # noqa: S105 - scope names


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("scopes", sa.String(64), nullable=True))
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.create_index(batch.f("ix_sessions_id"), ["id"], unique=True)
        batch.create_index(batch.f("ix_sessions_parent_id"), ["parent_id"], unique=False)
    bind = op.get_bind()
    sessions = sa.table(
        "sessions",
        sa.column("token_hash", sa.String),
        sa.column("kind", sa.String),
        sa.column("id", sa.String),
        sa.column("scopes", sa.String),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    expires = datetime.now(UTC) + timedelta(days=_EXISTING_TOKEN_DAYS)
    rows = bind.execute(sa.select(sessions.c.token_hash, sessions.c.kind)).all()
    for token_hash, kind in rows:
        values: dict[str, object] = {"id": secrets.token_hex(8)}
        if kind == "api":
            values["scopes"] = _EXISTING_TOKEN_SCOPES
        bind.execute(sessions.update().where(sessions.c.token_hash == token_hash).values(values))
    bind.execute(
        sessions.update()
        .where(sessions.c.kind == "api", sessions.c.expires_at.is_(None))
        .values(expires_at=expires)
    )


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index(batch.f("ix_sessions_parent_id"))
        batch.drop_index(batch.f("ix_sessions_id"))
        batch.drop_column("parent_id")
        batch.drop_column("scopes")
        batch.drop_column("id")
