"""TLS client certificates: registered to a person (CoT clients act as them), or revoked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.domain.identity import Role
from kyodo.errors import InvalidInput, KyodoError
from kyodo.pki.names import normalize_fingerprint
from kyodo.services.access import audit_entry, require_role

if TYPE_CHECKING:
    from kyodo.services.actor import Actor
    from kyodo.services.context import ServiceContext


async def register_certificate(
    ctx: ServiceContext, actor: Actor, person_id: str, fingerprint: str, subject: str = ""
) -> None:
    """Admins register a TLS client certificate (by SHA-256 fingerprint) to a person; CoT
    clients presenting it act as that person."""
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="person.certificate",
        object_type="person",
        object_id=person_id,
    )
    try:
        digest = normalize_fingerprint(fingerprint)
    except KyodoError as exc:
        raise InvalidInput(exc.message) from None
    async with ctx.db.transaction() as tx:
        person = await tx.people.get(person_id)
        await tx.people.register_certificate(digest, person.id, subject[:500], ctx.clock())
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "person.certificate",
                "person",
                person.id,
                person.label,
                fingerprint=digest,
                subject=subject[:500],
            )
        )


async def revoke_certificate(ctx: ServiceContext, actor: Actor, fingerprint: str) -> None:
    """Admins revoke a registered certificate: its holder can no longer connect."""
    await require_role(
        ctx,
        actor,
        Role.ADMIN,
        audit_action="person.certificate_revoke",
        object_type="certificate",
        object_id=fingerprint[:128],
    )
    digest = normalize_fingerprint(fingerprint)
    async with ctx.db.transaction() as tx:
        person_id = await tx.people.revoke_certificate(digest)
        await tx.audit.append(
            audit_entry(
                ctx, actor, "person.certificate_revoke", "person", person_id, fingerprint=digest
            )
        )
