"""Alembic environment: runs on the connection Kyodo hands it (see kyodo.store.migrate)."""

from __future__ import annotations

from alembic import context

from kyodo.store.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `kyodo init` or kyodo.store.migrate")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
