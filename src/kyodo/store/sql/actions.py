"""SQL store for coordination actions: the core row, labelled field values, history, comments,
concurrences and signatures."""

from __future__ import annotations

import builtins
import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from kyodo.domain.actions import (
    Action,
    ActionKind,
    Comment,
    CommentDecision,
    CommentType,
    ConcurAnswer,
    Concurrence,
    EscalationLevel,
    LabelledField,
    NonConcurStatus,
    Priority,
    Signature,
    Transition,
)
from kyodo.errors import Conflict, NotFound
from kyodo.store.sql.labels import readable_by
from kyodo.store.sql.tables import (
    action_comments,
    action_concurrences,
    action_fields,
    action_signatures,
    action_transitions,
    actions,
)
from kyodo.store.sql.times import aware, required

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Row
    from sqlalchemy.ext.asyncio import AsyncConnection

    from kyodo.policy import Subject
    from kyodo.store.sql.labels import TransactionLabels


class SqlActionStore:
    """Rows of `actions` and the tables that hang off it."""

    def __init__(self, conn: AsyncConnection, label_rows: TransactionLabels) -> None:
        self._conn = conn
        self._labels = label_rows

    async def _core_values(self, action: Action) -> dict[str, Any]:
        return {
            "kind": action.kind.value,
            "owner_org": action.owner_org,
            "opr_org": action.opr_org,
            "ocr_orgs": json.dumps(list(action.ocr_orgs)),
            "creator_id": action.creator_id,
            "action_officer_id": action.action_officer_id,
            "owning_net_id": action.owning_net_id,
            "bilateral": action.bilateral,
            "mutual_consent": action.mutual_consent,
            "priority": action.priority.value,
            "state": action.state,
            "label_id": await self._labels.id_of(self._conn, action.label),
            "round": action.round,
            "version": action.version,
            "updated_at": action.updated_at,
        }

    async def _write_fields(self, action: Action) -> None:
        await self._conn.execute(
            delete(action_fields).where(action_fields.c.action_id == action.id)
        )
        rows = [
            {
                "action_id": action.id,
                "name": name,
                "value": json.dumps(value.value, ensure_ascii=False),
                "label_id": await self._labels.id_of(self._conn, value.label),
            }
            for name, value in sorted(action.fields.items())
        ]
        if rows:
            await self._conn.execute(insert(action_fields), rows)

    async def add(self, action: Action) -> None:
        clash = await self._conn.execute(select(actions.c.id).where(actions.c.id == action.id))
        if clash.first():
            raise Conflict(f"an action {action.id!r} exists already")
        values = await self._core_values(action)
        await self._conn.execute(
            insert(actions).values(id=action.id, created_at=action.created_at, **values)
        )
        await self._write_fields(action)

    async def update(self, action: Action) -> None:
        values = await self._core_values(action)
        result = await self._conn.execute(
            update(actions).where(actions.c.id == action.id).values(**values)
        )
        if not result.rowcount:
            raise NotFound(f"no action {action.id!r}")
        await self._write_fields(action)

    async def get(self, action_id: str, *, lock: bool = False) -> Action:
        query = select(actions).where(actions.c.id == action_id)
        if lock:  # PostgreSQL: FOR UPDATE; SQLite: a write transaction holds the only lock
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        if row is None:
            raise NotFound(f"no action {action_id!r}")
        found: list[Action] = await self._actions([row])
        return found[0]

    async def list(self, reader: Subject | None) -> Sequence[Action]:
        """Every action whose core label `reader` may read (None: all), oldest first."""
        query = select(actions).order_by(actions.c.created_at, actions.c.id)
        if reader is not None:
            query = query.where(readable_by(reader, actions.c.label_id))
        return await self._actions(list(await self._conn.execute(query)))

    async def _actions(self, rows: Sequence[Row[Any]]) -> builtins.list[Action]:
        if not rows:
            return []
        ids = [r._mapping["id"] for r in rows]
        fields: dict[str, dict[str, LabelledField]] = defaultdict(dict)
        found = await self._conn.execute(
            select(action_fields).where(action_fields.c.action_id.in_(ids))
        )
        for f in found:
            m = f._mapping
            fields[m["action_id"]][m["name"]] = LabelledField(
                json.loads(m["value"]), await self._labels.fetch(self._conn, m["label_id"])
            )
        result = []
        for row in rows:
            m = row._mapping
            result.append(
                Action(
                    id=m["id"],
                    kind=ActionKind(m["kind"]),
                    owner_org=m["owner_org"],
                    creator_id=m["creator_id"],
                    label=await self._labels.fetch(self._conn, m["label_id"]),
                    state=m["state"],
                    priority=Priority(m["priority"]),
                    created_at=required(m["created_at"]),
                    updated_at=required(m["updated_at"]),
                    fields=dict(sorted(fields[m["id"]].items())),
                    opr_org=m["opr_org"],
                    ocr_orgs=tuple(json.loads(m["ocr_orgs"])),
                    action_officer_id=m["action_officer_id"],
                    owning_net_id=m["owning_net_id"],
                    bilateral=bool(m["bilateral"]),
                    mutual_consent=bool(m["mutual_consent"]),
                    round=m["round"],
                    version=m["version"],
                )
            )
        return result

    async def add_transition(self, transition: Transition) -> None:
        await self._conn.execute(
            insert(action_transitions).values(
                action_id=transition.action_id,
                name=transition.name,
                from_state=transition.from_state,
                to_state=transition.to_state,
                actor_id=transition.actor_id,
                at=transition.at,
                reason=transition.reason,
            )
        )

    async def transitions(self, action_id: str) -> Sequence[Transition]:
        rows = await self._conn.execute(
            select(action_transitions)
            .where(action_transitions.c.action_id == action_id)
            .order_by(action_transitions.c.id)
        )
        return [
            Transition(
                action_id=m["action_id"],
                actor_id=m["actor_id"],
                at=required(m["at"]),
                from_state=m["from_state"],
                to_state=m["to_state"],
                name=m["name"],
                reason=m["reason"],
            )
            for m in (r._mapping for r in rows)
        ]

    async def _comment_values(self, comment: Comment) -> dict[str, Any]:
        return {
            "action_id": comment.action_id,
            "org_id": comment.org_id,
            "author_id": comment.author_id,
            "type": comment.type.value,
            "location": comment.location,
            "text": comment.text,
            "rationale": comment.rationale,
            "label_id": await self._labels.id_of(self._conn, comment.label),
            "created_at": comment.created_at,
            "decision": None if comment.decision is None else comment.decision.value,
            "decision_reason": comment.decision_reason,
            "decided_by": comment.decided_by,
            "decided_at": comment.decided_at,
        }

    async def add_comment(self, comment: Comment) -> None:
        values = await self._comment_values(comment)
        await self._conn.execute(insert(action_comments).values(id=comment.id, **values))

    async def update_comment(self, comment: Comment) -> None:
        values = await self._comment_values(comment)
        result = await self._conn.execute(
            update(action_comments).where(action_comments.c.id == comment.id).values(**values)
        )
        if not result.rowcount:
            raise NotFound(f"no comment {comment.id!r}")

    async def comments(self, action_id: str) -> Sequence[Comment]:
        rows = await self._conn.execute(
            select(action_comments)
            .where(action_comments.c.action_id == action_id)
            .order_by(action_comments.c.created_at, action_comments.c.id)
        )
        return [await self._comment(r) for r in rows]

    async def _comment(self, row: Row[Any]) -> Comment:
        m = row._mapping
        return Comment(
            id=m["id"],
            action_id=m["action_id"],
            org_id=m["org_id"],
            author_id=m["author_id"],
            type=CommentType(m["type"]),
            location=m["location"],
            text=m["text"],
            rationale=m["rationale"],
            label=await self._labels.fetch(self._conn, m["label_id"]),
            created_at=required(m["created_at"]),
            decision=None if m["decision"] is None else CommentDecision(m["decision"]),
            decision_reason=m["decision_reason"],
            decided_by=m["decided_by"],
            decided_at=aware(m["decided_at"]),
        )

    async def put_concurrence(self, concurrence: Concurrence) -> None:
        """Store an office's answer, replacing its earlier one."""
        await self._conn.execute(
            delete(action_concurrences).where(
                action_concurrences.c.action_id == concurrence.action_id,
                action_concurrences.c.org_id == concurrence.org_id,
            )
        )
        await self._conn.execute(
            insert(action_concurrences).values(
                action_id=concurrence.action_id,
                org_id=concurrence.org_id,
                answer=concurrence.answer.value,
                person_id=concurrence.person_id,
                at=concurrence.at,
                comment_id=concurrence.comment_id,
                status=None if concurrence.status is None else concurrence.status.value,
                level=concurrence.level.value,
            )
        )

    async def concurrences(self, action_id: str) -> Sequence[Concurrence]:
        return (await self.concurrences_of([action_id])).get(action_id, [])

    async def concurrences_of(
        self, action_ids: Sequence[str]
    ) -> dict[str, builtins.list[Concurrence]]:
        """Each action's concurrences by office, for many actions in one query."""
        found: dict[str, builtins.list[Concurrence]] = defaultdict(builtins.list)
        if not action_ids:
            return found
        rows = await self._conn.execute(
            select(action_concurrences)
            .where(action_concurrences.c.action_id.in_(list(action_ids)))
            .order_by(action_concurrences.c.action_id, action_concurrences.c.org_id)
        )
        for m in (r._mapping for r in rows):
            found[m["action_id"]].append(
                Concurrence(
                    action_id=m["action_id"],
                    org_id=m["org_id"],
                    answer=ConcurAnswer(m["answer"]),
                    person_id=m["person_id"],
                    at=required(m["at"]),
                    comment_id=m["comment_id"],
                    status=None if m["status"] is None else NonConcurStatus(m["status"]),
                    level=EscalationLevel(m["level"]),
                )
            )
        return found

    async def add_signature(self, signature: Signature) -> None:
        clash = await self._conn.execute(
            select(action_signatures.c.nation).where(
                action_signatures.c.action_id == signature.action_id,
                action_signatures.c.round == signature.round,
                action_signatures.c.nation == signature.nation,
            )
        )
        if clash.first():
            raise Conflict(f"{signature.nation} has signed this round already")
        await self._conn.execute(
            insert(action_signatures).values(
                action_id=signature.action_id,
                round=signature.round,
                nation=signature.nation,
                person_id=signature.person_id,
                org_id=signature.org_id,
                at=signature.at,
            )
        )

    async def signatures(self, action_id: str) -> Sequence[Signature]:
        return (await self.signatures_of([action_id])).get(action_id, [])

    async def signatures_of(self, action_ids: Sequence[str]) -> dict[str, builtins.list[Signature]]:
        """Each action's signatures by round and nation, for many actions in one query."""
        found: dict[str, builtins.list[Signature]] = defaultdict(builtins.list)
        if not action_ids:
            return found
        rows = await self._conn.execute(
            select(action_signatures)
            .where(action_signatures.c.action_id.in_(list(action_ids)))
            .order_by(
                action_signatures.c.action_id,
                action_signatures.c.round,
                action_signatures.c.nation,
            )
        )
        for m in (r._mapping for r in rows):
            found[m["action_id"]].append(
                Signature(
                    action_id=m["action_id"],
                    nation=m["nation"],
                    person_id=m["person_id"],
                    org_id=m["org_id"],
                    at=required(m["at"]),
                    round=m["round"],
                )
            )
        return found
