"""Interned label rows and the SQL filter that keeps only rows a subject may read."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, not_, or_, select

from kyodo.labels import Label
from kyodo.store.sql.tables import label_categories, labels

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.policy import Subject
    from kyodo.store.sql.dialects.base import Dialect


def label_body(label: Label) -> str:
    """The label's stored form: its parts as canonical JSON (no scheme needed to read it back)."""
    rel = None if label.releasable_to is None else sorted(label.releasable_to)
    return json.dumps(
        [
            label.policy,
            label.level,
            label.rank,
            sorted(label.restrictive),
            rel,
            sorted(label.informative),
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def label_from_body(body: str) -> Label:
    """A Label from its stored form."""
    policy, level, rank, restrictive, rel, informative = json.loads(body)
    return Label(
        policy,
        level,
        int(rank),
        frozenset(restrictive),
        None if rel is None else frozenset(rel),
        frozenset(informative),
    )


class LabelRows:
    """The process's cache of label rows (labels repeat endlessly), filled only with what has
    been committed: `in_transaction()` gives each transaction its own view, whose new rows
    join the cache after its commit (a row inserted by a transaction that rolls back may get
    its id reused, and a cached id would then point at another label)."""

    def __init__(self) -> None:
        self._ids: dict[Label, int] = {}
        self._labels: dict[int, Label] = {}

    def in_transaction(self, dialect: Dialect) -> TransactionLabels:
        """A view for one transaction; call its `commit` once the transaction has committed."""
        return TransactionLabels(self, dialect)

    def known_id(self, label: Label) -> int | None:
        """The committed id of a label, if this process has seen it."""
        return self._ids.get(label)

    def known_label(self, label_id: int) -> Label | None:
        """The committed label of an id, if this process has seen it."""
        return self._labels.get(label_id)

    def remember(self, ids: dict[Label, int]) -> None:
        """Cache committed rows."""
        self._ids.update(ids)
        self._labels.update((label_id, label) for label, label_id in ids.items())


class TransactionLabels:
    """Finds or creates label rows inside one transaction; what it learns is kept apart until
    `commit` hands it to the process's cache."""

    def __init__(self, rows: LabelRows, dialect: Dialect) -> None:
        self._rows = rows
        self._dialect = dialect
        self._seen: dict[Label, int] = {}

    def commit(self) -> None:
        """The transaction committed: its label rows are safe to cache for every transaction."""
        if self._seen:
            self._rows.remember(self._seen)
            self._seen = {}

    async def id_of(self, conn: AsyncConnection, label: Label) -> int:
        """The id of the label's row, inserting it (race-free) if new."""
        found = self._rows.known_id(label)
        if found is None:
            found = self._seen.get(label)
        if found is not None:
            return found
        body = label_body(label)
        key = hashlib.sha256(body.encode()).hexdigest()
        values: dict[str, Any] = {
            "key": key,
            "policy": label.policy,
            "level": label.level,
            "rank": label.rank,
            "rel_restricted": label.releasable_to is not None,
            "body": body,
        }
        result = await conn.execute(self._dialect.insert_if_new(labels, values, "key"))
        if result.rowcount:
            label_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            rows = [{"label_id": label_id, "kind": "R", "value": v} for v in label.restrictive]
            rows += [
                {"label_id": label_id, "kind": "P", "value": v} for v in label.releasable_to or ()
            ]
            rows += [{"label_id": label_id, "kind": "I", "value": v} for v in label.informative]
            if rows:
                await conn.execute(label_categories.insert(), rows)
        else:
            label_id = int(
                (await conn.execute(select(labels.c.id).where(labels.c.key == key))).scalar_one()
            )
        self._seen[label] = label_id
        return label_id

    async def fetch(self, conn: AsyncConnection, label_id: int) -> Label:
        """The Label of a row, from the cache or the database."""
        found = self._rows.known_label(label_id)
        if found is not None:
            return found
        query = select(labels.c.body).where(labels.c.id == label_id)
        return self.label(label_id, (await conn.execute(query)).scalar_one())

    def label(self, label_id: int, body: str) -> Label:
        """The Label of a row read in this transaction (cached once committed)."""
        found = self._rows.known_label(label_id)
        if found is None:
            found = label_from_body(body)
            self._seen.setdefault(found, label_id)
        return found


def readable_by(subject: Subject, label_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL condition: the label `label_id` refers to is readable by `subject` (clearance,
    every restrictive category held, one of its releasability nations held)."""
    nations = sorted({subject.nation, *subject.releasability_grants})
    restrictive = label_categories.alias("rc")
    permissive = label_categories.alias("pc")
    lab = labels.alias("rl")
    missing_restrictive = exists().where(
        and_(
            restrictive.c.label_id == lab.c.id,
            restrictive.c.kind == "R",
            not_(restrictive.c.value.in_(sorted(subject.grants))),
        )
    )
    holds_nation = exists().where(
        and_(
            permissive.c.label_id == lab.c.id,
            permissive.c.kind == "P",
            permissive.c.value.in_(nations),
        )
    )
    return exists().where(
        and_(
            lab.c.id == label_id,
            lab.c.rank <= subject.clearance_rank,
            not_(missing_restrictive),
            or_(lab.c.rel_restricted.is_(False), holds_nation),
        )
    )
