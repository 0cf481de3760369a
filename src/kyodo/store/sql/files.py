"""SQL store for file records and their content (`files`), filtered by label in the query."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from kyodo.domain.files import StoredFile
from kyodo.errors import Conflict, NotFound
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import files, labels
from kyodo.store.sql.times import aware, required

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.policy import Subject
    from kyodo.store.sql.labels import TransactionLabels

# Every column but the content: listing and searching never read the bytes.
_META = [c for c in files.c if c.name != "content"]


class SqlFileStore:
    """Rows of `files`."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    def _select(self) -> Any:
        return select(*_META, labels.c.body).join(labels, labels.c.id == files.c.label_id)

    def _file(self, row: Row[Any]) -> StoredFile:
        m = row._mapping
        return StoredFile(
            id=m["id"],
            sha256=m["sha256"],
            name=m["name"],
            mime_type=m["mime_type"],
            size=m["size"],
            keywords=tuple(json.loads(m["keywords"])),
            creator_uid=m["creator_uid"],
            submitter_id=m["submitter_id"],
            submitter=m["submitter"],
            submitted_at=required(m["submitted_at"]),
            tool=m["tool"],
            label=self._labels.label(m["label_id"], m["body"]),
            deleted_at=aware(m["deleted_at"]),
            deleted_by=m["deleted_by"],
        )

    async def add(self, record: StoredFile, content: bytes) -> StoredFile:
        label_id = await self._labels.id_of(self._conn, record.label)
        clash = await self._conn.execute(
            select(files.c.id).where(files.c.sha256 == record.sha256, files.c.label_id == label_id)
        )
        if clash.first() is not None:
            raise Conflict("this file is held at this label already")
        result = await self._conn.execute(
            insert(files).values(
                sha256=record.sha256,
                name=record.name,
                mime_type=record.mime_type,
                size=record.size,
                keywords=json.dumps(list(record.keywords), ensure_ascii=False),
                creator_uid=record.creator_uid,
                submitter_id=record.submitter_id,
                submitter=record.submitter,
                submitted_at=record.submitted_at,
                tool=record.tool,
                label_id=label_id,
                content=content,
            )
        )
        file_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return await self.get(file_id)

    async def get(self, file_id: int) -> StoredFile:
        row = (await self._conn.execute(self._select().where(files.c.id == file_id))).first()
        if row is None:
            raise NotFound(f"no file {file_id}")
        return self._file(row)

    async def by_hash(self, sha256: str, reader: Subject) -> Sequence[StoredFile]:
        query = (
            self._select()
            .where(
                files.c.sha256 == sha256,
                files.c.deleted_at.is_(None),
                readable_by(reader, files.c.label_id),
            )
            .order_by(files.c.id)
        )
        return [self._file(r) for r in await self._conn.execute(query)]

    async def held(self, sha256: str) -> Sequence[StoredFile]:
        query = (
            self._select()
            .where(files.c.sha256 == sha256, files.c.deleted_at.is_(None))
            .order_by(files.c.id)
        )
        return [self._file(r) for r in await self._conn.execute(query)]

    async def content(self, file_id: int) -> bytes:
        query = select(files.c.content).where(files.c.id == file_id, files.c.deleted_at.is_(None))
        value = (await self._conn.execute(query)).scalar_one_or_none()
        if value is None:
            raise NotFound(f"no file {file_id}")
        return bytes(value)  # some drivers answer a memoryview

    async def search(
        self,
        reader: Subject,
        *,
        keyword: str | None = None,
        tool: str | None = None,
        name: str | None = None,
        limit: int = 1000,
    ) -> Sequence[StoredFile]:
        query = self._select().where(
            files.c.deleted_at.is_(None), readable_by(reader, files.c.label_id)
        )
        if tool is not None:
            query = query.where(files.c.tool == tool)
        if name is not None:
            query = query.where(func.lower(files.c.name) == name.lower())
        query = query.order_by(files.c.id)
        if keyword is None:
            query = query.limit(limit)
        found = [self._file(r) for r in await self._conn.execute(query)]
        if keyword is not None:
            # Keywords are a JSON list per row: matched here, exactly (TAK matches whole words).
            wanted = keyword.lower()
            found = [f for f in found if wanted in (k.lower() for k in f.keywords)]
        return found[:limit]

    async def set_tool(self, file_id: int, tool: str) -> None:
        await self._conn.execute(update(files).where(files.c.id == file_id).values(tool=tool))

    async def tombstone(self, file_id: int, by: str, at: datetime) -> None:
        await self._conn.execute(
            update(files)
            .where(files.c.id == file_id, files.c.deleted_at.is_(None))
            .values(deleted_at=at, deleted_by=by)
        )
