"""ids never reused: AUTOINCREMENT on labels and messages (SQLite)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Without AUTOINCREMENT SQLite hands the id of a row whose insert rolled back to the next row:
# an id remembered from the rolled-back transaction would then name another label or message.
# PostgreSQL's sequences never go back, so only SQLite changes.
TABLES = {"labels": "id", "messages": "seq"}


def _set_schema(table: str, sql: str) -> None:
    # The rows' on-disk format is the same with or without AUTOINCREMENT (the key is the rowid
    # either way), so the table's stored definition is changed in place, the way SQLite's
    # documentation changes constraints that leave the content as it is.
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": sql, "name": table},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _definition(table: str) -> str:
    return str(
        op.get_bind()
        .execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
            {"name": table},
        )
        .scalar_one()
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # sqlite_sequence exists once any table has AUTOINCREMENT.
    op.execute("CREATE TABLE IF NOT EXISTS kyodo_autoinc (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    op.execute("DROP TABLE kyodo_autoinc")
    for table, key in TABLES.items():
        sql = _definition(table)
        if "AUTOINCREMENT" in sql:
            continue
        sql, columns = re.subn(
            rf"\b{key} INTEGER NOT NULL",
            f"{key} INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT",
            sql,
            count=1,
        )
        sql, constraints = re.subn(rf",\s*CONSTRAINT pk_{table} PRIMARY KEY \({key}\)", "", sql)
        if columns != 1 or constraints != 1:
            raise RuntimeError(f"unexpected definition of {table}: {sql}")
        _set_schema(table, sql)
        # Table and key names are this module's constants.
        highest = f"SELECT :name, COALESCE(MAX({key}), 0) FROM {table}"  # noqa: S608
        op.execute(
            sa.text(f"INSERT INTO sqlite_sequence (name, seq) {highest}").bindparams(name=table)
        )
    problems = op.get_bind().exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check after AUTOINCREMENT: {problems}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, key in TABLES.items():
        sql = _definition(table).replace(
            f"{key} INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", f"{key} INTEGER NOT NULL"
        )
        sql = re.sub(r"\)\s*$", f", \n\tCONSTRAINT pk_{table} PRIMARY KEY ({key})\n)", sql)
        _set_schema(table, sql)
