"""Passwords: a person's own, an admin's reset, and the two-person rule for privileged ones."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from kyodo.bus.events import SessionEnded
from kyodo.domain.identity import Role
from kyodo.policy import people as people_rules
from kyodo.services import auth
from kyodo.services.access import audit_entry, enforce, require_role
from kyodo.services.identity.people import check_password, get_person
from kyodo.services.ports import AuditQuery

if TYPE_CHECKING:
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext

RESET_REQUEST = "person.password_reset_request"
RESET_REQUEST_HOURS = 24


async def request_password_reset(ctx: ServiceContext, actor: Actor, person_id: str) -> str:
    """An administrator asks for a reset of an administrator's or security officer's password
    (two-person rule): another administrator performs it, naming the request's id. Audited."""
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action=RESET_REQUEST,
        object_type="person",
        object_id=person_id,
    )
    target = await get_person(ctx, actor, person_id)
    await enforce(
        ctx,
        actor,
        people_rules.may_request_password_reset(
            actor.subject, person_id, frozenset(r.value for r in target.roles)
        ),
        audit_action=RESET_REQUEST,
        object_type="person",
        object_id=person_id,
        label=target.label,
    )
    request_id = uuid.uuid4().hex
    async with ctx.db.transaction() as tx:
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                RESET_REQUEST,
                "person",
                person_id,
                target.label,
                request=request_id,
                requester_id=actor.subject.id,
            )
        )
    return request_id


async def _approver(ctx: ServiceContext, person_id: str, request_id: str) -> str | None:
    """Who asked for reset `request_id` of this person's password, if it is recent and unused."""
    since = (ctx.clock() - timedelta(hours=RESET_REQUEST_HOURS)).isoformat()
    async with ctx.db.transaction(write=False) as tx:
        requests = await tx.audit.list(
            AuditQuery(action=RESET_REQUEST, object_id=person_id, since=since), None, 200
        )
        used = await tx.audit.list(
            AuditQuery(action="person.password", object_id=person_id, since=since), None, 200
        )
    if any(
        r.entry.decision == "allow" and r.entry.details.get("approval") == request_id for r in used
    ):
        return None
    for record in requests:
        if record.entry.details.get("request") == request_id:
            requester = record.entry.details.get("requester_id")
            return requester if isinstance(requester, str) else None
    return None


async def set_password(
    ctx: ServiceContext,
    actor: Actor,
    person_id: str,
    password: str,
    current_password: str | None = None,
    *,
    approval: str | None = None,
) -> None:
    """A person sets their own password (logged in, giving the current one), or an admin sets
    anyone's — an administrator's or security officer's only with another administrator's
    request (`approval`, two-person rule); other sessions and tokens end."""
    details: dict[str, object] = {}
    if actor.subject.id == person_id:
        await auth.confirm_password(ctx, actor, current_password)
    else:
        await require_role(
            ctx,
            actor,
            Role.ADMIN,
            audit_action="person.password",
            object_type="person",
            object_id=person_id,
        )
        target = await get_person(ctx, actor, person_id)
        approved_by = None if approval is None else await _approver(ctx, person_id, approval)
        await enforce(
            ctx,
            actor,
            people_rules.may_set_password(
                actor.subject, person_id, frozenset(r.value for r in target.roles), approved_by
            ),
            audit_action="person.password",
            object_type="person",
            object_id=person_id,
            label=target.label,
            approval=approval,
        )
        if approval is not None and approved_by is not None:
            details = {"approval": approval, "requested_by": approved_by}
    check_password(password)
    async with ctx.db.transaction() as tx:
        person = await tx.people.get(person_id)
        await tx.people.set_password_hash(person_id, ctx.passwords.hash(password))
        await tx.sessions.delete_for_person(person_id)
        await tx.audit.append(
            audit_entry(ctx, actor, "person.password", "person", person_id, person.label, **details)
        )
        tx.after_commit(partial(ctx.reads.forget_person, person_id))
        tx.publish(SessionEnded(person_id))
