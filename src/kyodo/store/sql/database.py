"""The database: its engine and dialect, and the units of work that bind the stores."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from kyodo.errors import KyodoError
from kyodo.store.sql.actions import SqlActionStore
from kyodo.store.sql.audit import SqlAuditStore
from kyodo.store.sql.dialects import Dialect, dialect_for
from kyodo.store.sql.files import SqlFileStore
from kyodo.store.sql.identity import SqlOrgStore, SqlPersonStore
from kyodo.store.sql.labels import LabelRows, TransactionLabels
from kyodo.store.sql.messages import SqlMessageStore
from kyodo.store.sql.nets import SqlNetStore
from kyodo.store.sql.receipts import SqlReceiptStore
from kyodo.store.sql.sessions import SqlSessionStore
from kyodo.store.sql.tracks import SqlFeedStore, SqlTrackStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from kyodo.bus.events import Event
    from kyodo.services.ports import Bus


log = structlog.get_logger(__name__)


@dataclass(slots=True)
class SqlUnitOfWork:
    """The stores of one transaction, and what is to happen only once it has committed."""

    conn: AsyncConnection
    orgs: SqlOrgStore
    people: SqlPersonStore
    sessions: SqlSessionStore
    audit: SqlAuditStore
    nets: SqlNetStore
    messages: SqlMessageStore
    receipts: SqlReceiptStore
    feeds: SqlFeedStore
    tracks: SqlTrackStore
    files: SqlFileStore
    actions: SqlActionStore
    labels: TransactionLabels
    bus: Bus | None = None
    _effects: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)

    def after_commit(self, effect: Callable[[], Awaitable[None] | None]) -> None:
        """Run `effect` once this transaction has committed, never if it rolls back."""
        self._effects.append(effect)

    def publish(self, event: Event) -> None:
        """Publish `event` on the bus once this transaction has committed."""
        bus = self.bus
        if bus is None:
            raise RuntimeError("this database has no bus to publish on")
        self._effects.append(partial(bus.publish, event))

    async def committed(self) -> None:
        """Run the after-commit effects in the order they were registered. The change is
        committed: a failing effect is logged and the rest still run (a live client that
        missed an event resumes from its last rev)."""
        self.labels.commit()
        effects, self._effects = self._effects, []
        for effect in effects:
            try:
                result = effect()
                if result is not None:
                    await result
            except Exception:
                log.exception("an after-commit effect failed", effect=repr(effect))


class SqlDatabase:
    """A SQLAlchemy async engine for SQLite or PostgreSQL, and the transactions that bind the
    stores; what differs between the two is the `dialect`'s."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.dialect: Dialect = dialect_for(url)
        # Every use of a connection ends its transaction (`transaction` below commits or rolls
        # back), so the pool's rollback on return would be one more round trip (a hand-off to
        # the driver's thread on SQLite) per transaction for nothing.
        self.engine = create_async_engine(
            url, echo=echo, pool_reset_on_return=None, **self.dialect.engine_options()
        )
        self.dialect.attach(self.engine)
        self.label_rows = LabelRows()
        self.bus: Bus | None = None  # where `tx.publish` sends events after commit

    def use_bus(self, bus: Bus) -> None:
        """Send the events that transactions publish (after commit) to `bus`."""
        self.bus = bus

    @asynccontextmanager
    async def transaction(
        self, *, write: bool = True, bulk: bool = False
    ) -> AsyncIterator[SqlUnitOfWork]:
        """One transaction: committed when the block ends, rolled back if it raises; its
        after-commit effects run once it has committed (and the write lock is released). A
        `bulk` write on SQLite keeps its statements on the connection's thread (it may run
        long)."""
        async with (
            self.dialect.writing(write),
            self._transaction(write=write, bulk=bulk) as uow,
        ):
            yield uow
        await uow.committed()

    @asynccontextmanager
    async def _transaction(self, *, write: bool, bulk: bool) -> AsyncIterator[SqlUnitOfWork]:
        try:
            async with self.engine.connect() as raw:
                options = self.dialect.transaction_options(write=write, bulk=bulk)
                conn = await raw.execution_options(**options) if options else raw
                labels = self.label_rows.in_transaction(self.dialect)
                async with conn.begin():
                    yield SqlUnitOfWork(
                        conn=conn,
                        orgs=SqlOrgStore(conn, labels),
                        people=SqlPersonStore(conn, labels),
                        sessions=SqlSessionStore(conn),
                        audit=SqlAuditStore(conn, self.dialect),
                        nets=SqlNetStore(conn, labels),
                        messages=SqlMessageStore(conn, labels, self.dialect),
                        receipts=SqlReceiptStore(conn, self.dialect),
                        feeds=SqlFeedStore(conn, labels),
                        tracks=SqlTrackStore(conn, labels),
                        files=SqlFileStore(conn, labels),
                        actions=SqlActionStore(conn, labels),
                        labels=labels,
                        bus=self.bus,
                    )
        except KyodoError:
            raise
        except Exception as error:
            # Also the errors of the statements sent straight to the driver (`driver.py`),
            # which SQLAlchemy does not wrap: the same answers as for its own.
            found = self.dialect.domain_error(error)
            if found is None:
                raise
            raise found from None

    async def ping(self) -> None:
        """Unavailable unless the database answers a trivial query."""
        async with self.transaction(write=False) as tx:
            await tx.conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.dialect.close()
        await self.engine.dispose()
