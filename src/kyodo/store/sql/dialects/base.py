"""The Protocol every back-end's dialect implements (`dialects/sqlite.py`, `postgresql.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from sqlalchemy import Select, Table
    from sqlalchemy.engine import Dialect as SaDialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
    from sqlalchemy.sql.expression import Executable

    from kyodo.store.sql.driver import Compiled, DriverInsert


class Dialect(Protocol):
    """One database back-end's own ways. The stores hold the database's dialect and call it
    where the back-ends differ, so none of them asks which back-end it runs on. The statements
    it sends straight to the driver (`fetch_all`, `insert`, `add_messages`) are the hot path:
    each is one driver call, as SQLAlchemy's own would be several (ADR 0007)."""

    name: str  # SQLAlchemy's name for it: "sqlite" or "postgresql"

    def engine_options(self) -> dict[str, Any]:
        """Arguments for `create_async_engine` (pool, connect arguments)."""
        ...

    def attach(self, engine: AsyncEngine) -> None:
        """Install the engine's event hooks (called once, right after it is created)."""
        ...

    def transaction_options(self, *, write: bool, bulk: bool) -> dict[str, Any]:
        """Execution options a transaction's connection gets (none: it is used as it is)."""
        ...

    def writing(self, write: bool) -> AbstractAsyncContextManager[object]:
        """Held around a transaction (`write`: whether it writes) and its connection's return
        to the pool, before the transaction's after-commit effects run."""
        ...

    def domain_error(self, error: Exception) -> Exception | None:
        """The Kyodo error a database error means, or None for a bug to surface as it is."""
        ...

    async def close(self) -> None:
        """Stop background work (before the engine is disposed of)."""
        ...

    async def fetch_all(
        self, conn: AsyncConnection, sql: str, params: Sequence[Any] = ()
    ) -> list[Any]:
        """Rows of a query (placeholders `?` on SQLite, `$1…` on PostgreSQL), one driver call."""
        ...

    def compile_insert(self, statement: DriverInsert, dialect: SaDialect) -> Compiled:
        """The driver form of a batched insert (see `DriverInsert.compiled`)."""
        ...

    async def insert(
        self, conn: AsyncConnection, statement: DriverInsert, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert the rows (each a mapping of every column of `statement`), one driver call."""
        ...

    def insert_if_new(
        self, table: Table, values: Mapping[str, Any], key: str | Sequence[str]
    ) -> Executable:
        """`INSERT` of one row that does nothing if a row with the same `key` (a unique
        column, or the columns of a composite key) exists."""
        ...

    async def lock_audit_chain(self, conn: AsyncConnection) -> None:
        """Hold, until commit, the lock that lets one appender at a time read the chain's head."""
        ...

    async def add_messages(
        self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        """Insert messages (rows of `message_inserts.NEW_MESSAGE`), their first versions and their
        search entries; the new seqs, in the rows' order."""
        ...

    async def index_message(self, conn: AsyncConnection, seq: int, body: str | None) -> None:
        """Make the search index hold `body` for message `seq` (None: nothing)."""
        ...

    def matching(self, query: Select[Any], words: Sequence[str]) -> Select[Any]:
        """`query` (of messages) narrowed to messages holding every one of the words."""
        ...
