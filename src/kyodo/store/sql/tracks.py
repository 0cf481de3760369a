"""SQL stores for feeds, tracks (latest state) and their bounded position history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from kyodo.domain.tracks import Feed, Position, StoredTrack, Track
from kyodo.errors import Conflict, NotFound
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import feeds, labels, track_history, tracks

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.labels import Label
    from kyodo.policy import Subject
    from kyodo.store.sql.labels import TransactionLabels


def _track_values(track: Track, label_id: int) -> dict[str, Any]:
    p = track.position
    return {
        "uid": track.uid,
        "type": track.type,
        "sidc": track.sidc,
        "callsign": track.callsign,
        "lat": p.lat,
        "lon": p.lon,
        "hae": p.hae,
        "ce": p.ce,
        "le": p.le,
        "course": p.course,
        "speed": p.speed,
        "time": p.time,
        "start": track.start,
        "stale": track.stale,
        "how": track.how,
        "remarks": track.remarks,
        "detail_xml": track.detail_xml,
        "label_id": label_id,
        "feed_id": track.feed_id,
        "updated_at": track.updated_at or p.time,
        "originator": track.originator,
        "source_xml": track.source_xml,
        # A report allowed to update a deleted track brings it back (in the same statement).
        "deleted_at": None,
        "deleted_by": None,
    }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    # Some drivers hand a binary column back as a memoryview.
    return bytes(value) if isinstance(value, memoryview) else value


class SqlFeedStore:
    """Rows of `feeds`."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    async def _label(self, label_id: int) -> Label:
        return await self._labels.fetch(self._conn, label_id)

    async def _feed(self, row: Row[Any]) -> Feed:
        m = row._mapping
        return Feed(
            id=m["id"],
            name=m["name"],
            description=m["description"],
            ceiling=await self._label(m["ceiling_label_id"]),
            entry=await self._label(m["entry_label_id"]),
            default_label=await self._label(m["default_label_id"]),
        )

    async def add(self, feed: Feed, created_at: datetime) -> None:
        clash = await self._conn.execute(
            select(feeds.c.id).where((feeds.c.id == feed.id) | (feeds.c.name == feed.name))
        )
        if clash.first():
            raise Conflict(f"a feed named {feed.name!r} exists already")
        await self._conn.execute(
            insert(feeds).values(
                id=feed.id,
                name=feed.name,
                description=feed.description,
                created_at=created_at,
                ceiling_label_id=await self._labels.id_of(self._conn, feed.ceiling),
                entry_label_id=await self._labels.id_of(self._conn, feed.entry),
                default_label_id=await self._labels.id_of(self._conn, feed.default_label),
            )
        )

    async def get(self, feed_id: str) -> Feed:
        row = (await self._conn.execute(select(feeds).where(feeds.c.id == feed_id))).first()
        if row is None:
            raise NotFound(f"no feed {feed_id!r}")
        return await self._feed(row)

    async def get_by_name(self, name: str) -> Feed:
        row = (await self._conn.execute(select(feeds).where(feeds.c.name == name))).first()
        if row is None:
            raise NotFound(f"no feed named {name!r}")
        return await self._feed(row)

    async def list(self) -> Sequence[Feed]:
        rows = await self._conn.execute(select(feeds).order_by(feeds.c.name))
        return [await self._feed(r) for r in rows]


class SqlTrackStore:
    """Rows of `tracks` and `track_history`."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    def _select(self) -> Any:
        return select(tracks, labels.c.body).join(labels, labels.c.id == tracks.c.label_id)

    def _track(self, row: Row[Any]) -> Track:
        m = row._mapping
        return Track(
            uid=m["uid"],
            type=m["type"],
            sidc=m["sidc"],
            callsign=m["callsign"],
            position=Position(
                m["lat"],
                m["lon"],
                _utc(m["time"]),
                m["hae"],
                m["ce"],
                m["le"],
                m["course"],
                m["speed"],
            ),
            start=_utc(m["start"]),
            stale=_utc(m["stale"]),
            label=self._labels.label(m["label_id"], m["body"]),
            feed_id=m["feed_id"],
            remarks=m["remarks"],
            how=m["how"],
            detail_xml=m["detail_xml"],
            updated_at=_utc(m["updated_at"]),
            originator=m["originator"],
            source_xml=_bytes(m["source_xml"]),
        )

    async def get(self, uid: str) -> Track:
        """A track on the picture (a deleted one is NotFound, though its row is kept)."""
        row = (
            await self._conn.execute(
                self._select().where(and_(tracks.c.uid == uid, tracks.c.deleted_at.is_(None)))
            )
        ).first()
        if row is None:
            raise NotFound(f"no track {uid!r}")
        return self._track(row)

    async def delete(self, uid: str, by: str, at: datetime) -> bool:
        """Take a track off the picture, keeping its row and history; False if it is not
        there (never stored, or deleted already)."""
        done = await self._conn.execute(
            update(tracks)
            .where(and_(tracks.c.uid == uid, tracks.c.deleted_at.is_(None)))
            .values(deleted_at=at, deleted_by=by)
        )
        return bool(done.rowcount)

    async def stored(self, uids: Sequence[str]) -> dict[str, StoredTrack]:
        """Label, feed and originator of those of `uids` that are stored (deleted ones too:
        their uid is still their originator's), their rows locked until the transaction ends
        (PostgreSQL; SQLite's writer holds the whole database), so what an update is checked
        against is still what it replaces."""
        rows = await self._conn.execute(
            select(
                tracks.c.uid,
                tracks.c.feed_id,
                tracks.c.originator,
                tracks.c.label_id,
                tracks.c.deleted_at,
                labels.c.body,
            )
            .join(labels, labels.c.id == tracks.c.label_id)
            .where(tracks.c.uid.in_(list(uids)))
            .with_for_update(of=tracks)
        )
        return {
            m["uid"]: StoredTrack(
                self._labels.label(m["label_id"], m["body"]),
                m["feed_id"],
                m["originator"],
                None if m["deleted_at"] is None else _utc(m["deleted_at"]),
            )
            for m in (r._mapping for r in rows)
        }

    async def upsert_many(
        self,
        batch: Sequence[Track],
        history_limit: int,
        known: set[str] | None = None,
    ) -> list[bool]:
        """Store the latest state of each uid, append every position to its history (trimmed
        to the newest `history_limit`), with one statement per kind of change. For each report,
        True if it was the first sighting of its uid. `known`: the uids of the batch already
        stored, if the caller has just read them. An update keeps the track's originator; the
        caller has decided that each may be made (`services.tracks` asks the policy, against
        `stored` read in the same transaction): nothing here checks labels."""
        if not batch:
            return []
        label_ids = [await self._labels.id_of(self._conn, t.label) for t in batch]
        uids = list(dict.fromkeys(t.uid for t in batch))
        if known is None:
            known = set(
                (await self._conn.execute(select(tracks.c.uid).where(tracks.c.uid.in_(uids))))
                .scalars()
                .all()
            )
        latest: dict[str, dict[str, Any]] = {}
        created: list[bool] = []
        for track, label_id in zip(batch, label_ids, strict=True):
            created.append(track.uid not in known and track.uid not in latest)
            latest[track.uid] = _track_values(track, label_id)
        new = [v for uid, v in latest.items() if uid not in known]
        old = [{"t_uid": uid, **v} for uid, v in latest.items() if uid in known]
        for values in old:
            del values["uid"]
            del values["originator"]  # the first reporter stays the originator
        if new:
            await self._conn.execute(insert(tracks), new)
        if old:
            await self._conn.execute(
                update(tracks)
                .where(tracks.c.uid == bindparam("t_uid"))
                .values({key: bindparam(key) for key in old[0] if key != "t_uid"}),
                old,
            )
        await self._conn.execute(
            insert(track_history),
            [
                {
                    "uid": t.uid,
                    "lat": t.position.lat,
                    "lon": t.position.lon,
                    "hae": t.position.hae,
                    "course": t.position.course,
                    "speed": t.position.speed,
                    "time": t.position.time,
                    "label_id": label_id,
                }
                for t, label_id in zip(batch, label_ids, strict=True)
            ],
        )
        # The cut-off is looked up once per uid (a walk of its index), not per row.
        cutoff = (
            select(track_history.c.id)
            .where(track_history.c.uid == bindparam("h_uid"))
            .order_by(track_history.c.id.desc())
            .offset(bindparam("h_keep"))
            .limit(1)
            .scalar_subquery()
        )
        await self._conn.execute(
            delete(track_history).where(
                and_(track_history.c.uid == bindparam("h_uid"), track_history.c.id <= cutoff)
            ),
            [{"h_uid": uid, "h_keep": history_limit} for uid in uids],
        )
        return created

    async def list(
        self,
        reader: Subject,
        *,
        now: datetime,
        include_stale: bool = False,
        bbox: tuple[float, float, float, float] | None = None,
        type_prefixes: Sequence[str] = (),
        feed_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> Sequence[Track]:
        """Tracks on the picture (not deleted) the reader may read, filtered in the query."""
        query = self._select().where(
            and_(tracks.c.deleted_at.is_(None), readable_by(reader, tracks.c.label_id))
        )
        if not include_stale:
            query = query.where(tracks.c.stale > now)
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            query = query.where(
                and_(
                    tracks.c.lat >= min_lat,
                    tracks.c.lat <= max_lat,
                    tracks.c.lon >= min_lon,
                    tracks.c.lon <= max_lon,
                )
            )
        if type_prefixes:
            query = query.where(
                or_(*(tracks.c.type.startswith(t, autoescape=True) for t in type_prefixes))
            )
        if feed_id is not None:
            query = query.where(tracks.c.feed_id == feed_id)
        if since is not None:
            query = query.where(tracks.c.updated_at >= since)
        rows = await self._conn.execute(query.order_by(tracks.c.uid).limit(limit))
        return [self._track(r) for r in rows]

    async def history(self, uid: str, reader: Subject, limit: int) -> Sequence[Position]:
        """The newest positions of a track the reader may read, oldest first."""
        query = (
            select(track_history)
            .where(and_(track_history.c.uid == uid, readable_by(reader, track_history.c.label_id)))
            .order_by(track_history.c.id.desc())
            .limit(limit)
        )
        rows = list(await self._conn.execute(query))
        return [
            Position(
                m["lat"], m["lon"], _utc(m["time"]), m["hae"], course=m["course"], speed=m["speed"]
            )
            for m in (r._mapping for r in reversed(rows))
        ]

    async def count(self) -> int:
        return int(
            (await self._conn.execute(select(func.count()).select_from(tracks))).scalar_one()
        )
