"""coordination actions: actions, their labelled field values, transitions, comments,
concurrences and signatures

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("opr_org", sa.String(64), nullable=True),
        sa.Column("ocr_orgs", sa.Text(), nullable=False),
        sa.Column("creator_id", sa.String(64), nullable=False),
        sa.Column("action_officer_id", sa.String(64), nullable=True),
        sa.Column("owning_net_id", sa.String(64), nullable=True),
        sa.Column("bilateral", sa.Boolean(), nullable=False),
        sa.Column("mutual_consent", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _fk("actions", "owner_org", "orgs.id"),
        _fk("actions", "opr_org", "orgs.id"),
        _fk("actions", "owning_net_id", "nets.id"),
        _fk("actions", "label_id", "labels.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    op.create_index("ix_actions_owner_org", "actions", ["owner_org"])
    op.create_index("ix_actions_opr_org", "actions", ["opr_org"])
    op.create_table(
        "action_fields",
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        _fk("action_fields", "action_id", "actions.id"),
        _fk("action_fields", "label_id", "labels.id"),
        sa.PrimaryKeyConstraint("action_id", "name", name=op.f("pk_action_fields")),
    )
    op.create_table(
        "action_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=False),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _fk("action_transitions", "action_id", "actions.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_transitions")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_action_transitions_action", "action_transitions", ["action_id", "id"])
    op.create_table(
        "action_comments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        _fk("action_comments", "action_id", "actions.id"),
        _fk("action_comments", "label_id", "labels.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_comments")),
    )
    op.create_index(op.f("ix_action_comments_action_id"), "action_comments", ["action_id"])
    op.create_table(
        "action_concurrences",
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("answer", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("level", sa.String(32), nullable=False),
        _fk("action_concurrences", "action_id", "actions.id"),
        sa.PrimaryKeyConstraint("action_id", "org_id", name=op.f("pk_action_concurrences")),
    )
    op.create_table(
        "action_signatures",
        sa.Column("action_id", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("nation", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _fk("action_signatures", "action_id", "actions.id"),
        sa.PrimaryKeyConstraint("action_id", "round", "nation", name=op.f("pk_action_signatures")),
    )


def downgrade() -> None:
    for table in (
        "action_signatures",
        "action_concurrences",
        "action_comments",
        "action_transitions",
        "action_fields",
    ):
        op.drop_table(table)
    op.drop_index("ix_actions_opr_org", table_name="actions")
    op.drop_index("ix_actions_owner_org", table_name="actions")
    op.drop_table("actions")
