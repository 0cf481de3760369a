"""files: labelled files and data packages (TAK's Enterprise Sync), content in the row

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("creator_uid", sa.String(length=200), nullable=False),
        sa.Column("submitter_id", sa.String(length=200), nullable=False),
        sa.Column("submitter", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool", sa.String(length=20), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"], name=op.f("fk_files_label_id_labels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        # An id is never handed out twice (as labels and messages, migration 0007).
        sqlite_autoincrement=True,
    )
    op.create_index("ix_files_sha256_label", "files", ["sha256", "label_id"], unique=True)
    op.create_index("ix_files_submitted_at", "files", ["submitted_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_files_submitted_at", table_name="files")
    op.drop_index("ix_files_sha256_label", table_name="files")
    op.drop_table("files")
