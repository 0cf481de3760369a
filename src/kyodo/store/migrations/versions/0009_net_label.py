"""net label: the label of a net's name, purpose and members, if lower than its entry label

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a reference (NULL default) in place; alembic would rebuild
        # the table, which other tables' keys point at.
        op.execute("ALTER TABLE nets ADD COLUMN label_id INTEGER REFERENCES labels (id)")
        return
    op.add_column("nets", sa.Column("label_id", sa.Integer(), nullable=True))
    op.create_foreign_key("fk_nets_label_id_labels", "nets", "labels", ["label_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("nets") as batch:
        batch.drop_column("label_id")
