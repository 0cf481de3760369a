"""track originator

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Who first reported the track (a subject id): the policy lets them update it. Tracks
    # stored before have none: only their feed's writers may update those.
    with op.batch_alter_table("tracks") as batch:
        batch.add_column(sa.Column("originator", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("tracks") as batch:
        batch.drop_column("originator")
