"""Alembic environment: runs on the connection Kyodo hands it (see kyodo.store.migrate)."""

from __future__ import annotations

from alembic import context

from kyodo.store.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `kyodo init` or kyodo.store.migrate")


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # The FTS5 tables are made by hand in migration 0002; autogenerate must not drop them.
    return not (type_ == "table" and name is not None and name.startswith("messages_fts"))


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_object=_include,
)
with context.begin_transaction():
    context.run_migrations()
