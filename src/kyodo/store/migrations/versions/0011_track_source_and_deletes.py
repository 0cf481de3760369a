"""track source bytes and deletes: the latest received CoT per track, and who deleted it when

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without references: added in place on both back-ends (no table rebuild).
    op.add_column("tracks", sa.Column("source_xml", sa.LargeBinary(), nullable=True))
    op.add_column("tracks", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tracks", sa.Column("deleted_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tracks") as batch:
        batch.drop_column("deleted_by")
        batch.drop_column("deleted_at")
        batch.drop_column("source_xml")
