"""member last read

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The seq of the last message a member has seen in the net (unread counts on any device).
    with op.batch_alter_table("net_members") as batch:
        batch.add_column(
            sa.Column("last_read", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("net_members") as batch:
        batch.drop_column("last_read")
