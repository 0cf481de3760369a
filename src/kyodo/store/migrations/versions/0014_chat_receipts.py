"""chat receipts: who was delivered and who read a message, and the GeoChat ids of messages

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The GeoChat messageId a TAK client gave its message: receipts name the message by it.
    op.create_table(
        "chat_refs",
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column("message_seq", sa.Integer, sa.ForeignKey("messages.seq"), nullable=False),
    )
    op.create_table(
        "chat_receipts",
        sa.Column("message_seq", sa.Integer, sa.ForeignKey("messages.seq"), primary_key=True),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("people.id"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chat_receipts")
    op.drop_table("chat_refs")
