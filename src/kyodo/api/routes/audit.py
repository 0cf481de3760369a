"""The audit log for security officers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kyodo.api.deps import Context, CurrentActor
from kyodo.api.schemas import AuditOut, AuditPage
from kyodo.services import audit
from kyodo.services.ports import AuditQuery

router = APIRouter(tags=["audit"])
Filter = Annotated[str | None, Query(max_length=128)]


@router.get("/audit", response_model=AuditPage)
async def list_audit(
    actor: CurrentActor,
    ctx: Context,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=128)] = None,
    action: Filter = None,
    object_type: Filter = None,
    object_id: Filter = None,
    since: Annotated[str | None, Query(max_length=32, description="ISO time, UTC")] = None,
    until: Annotated[str | None, Query(max_length=32, description="ISO time, UTC")] = None,
    cursor: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> AuditPage:
    """Audit records, oldest first, filtered by actor, action, object and time."""
    query = AuditQuery(
        actor=actor_name,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    page = await audit.list_audit(ctx, actor, query, cursor, limit)
    return AuditPage(items=[AuditOut.of(r) for r in page.items], next_cursor=page.next_cursor)
