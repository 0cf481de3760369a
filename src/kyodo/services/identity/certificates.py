"""TLS client certificates: registered to a person (CoT clients act as them), or revoked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kyodo.audit.chain import AuditEntry
from kyodo.domain.identity import Role
from kyodo.errors import Conflict, InvalidInput, KyodoError, PermissionDenied
from kyodo.labels import label_to_dict
from kyodo.pki.issuing import load_csr, sign_client_csr
from kyodo.pki.names import fingerprint, normalize_fingerprint
from kyodo.services.access import audit_entry, audit_refusal, require_role

if TYPE_CHECKING:
    from cryptography import x509

    from kyodo.pki.issuing import CertifiedKey
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


@dataclass(frozen=True, slots=True)
class Enrolled:
    """A certificate issued to its holder, and the CA that issued it (the truststore)."""

    certificate: x509.Certificate
    ca: x509.Certificate
    fingerprint: str


async def enrol_certificate(
    ctx: ServiceContext,
    actor: Actor,
    csr: bytes,
    ca: CertifiedKey | None,
    *,
    client_uid: str = "",
    days: int = 365,
) -> Enrolled:
    """A person enrols a TAK device themselves (ATAK's signClient): the request's key gets a
    certificate from the CoT CA named by Kyodo (CN = their username; the request's own subject
    is ignored), registered to them at once and revocable like any other. Refused: no CA to
    sign with (Conflict: this server's set-up, not a fault), a request that does not parse or
    verify, or a weak key (InvalidInput, audited)."""
    person = actor.person
    if person is None:
        raise PermissionDenied("only a person enrols a certificate for themselves")
    if ca is None:
        raise Conflict(
            "certificate enrolment is not set up on this server (cot_tls_ca and cot_enrol_ca_key)"
        )
    client_uid = client_uid[:200]
    try:
        request = load_csr(csr)
        certificate = sign_client_csr(
            ca, request, person.username, person_id=person.id, days=days, now=ctx.clock()
        )
    except InvalidInput as exc:
        await audit_refusal(
            ctx,
            actor,
            AuditEntry(
                actor=actor.audit_name,
                action="certificate.enrol",
                object_type="person",
                object_id=person.id,
                decision="deny",
                label=label_to_dict(person.label, ctx.registry),
                reasons=(exc.message,),
                details={"client_uid": client_uid},
            ),
        )
        raise
    digest = fingerprint(certificate)
    subject = certificate.subject.rfc4514_string()[:500]
    async with ctx.db.transaction() as tx:
        await tx.people.register_certificate(digest, person.id, subject, ctx.clock())
        await tx.audit.append(
            audit_entry(
                ctx,
                actor,
                "certificate.enrol",
                "person",
                person.id,
                person.label,
                fingerprint=digest,
                subject=subject,
                serial=format(certificate.serial_number, "x"),
                client_uid=client_uid,
                not_after=certificate.not_valid_after_utc.isoformat(),
            )
        )
    return Enrolled(certificate, ca.certificate, digest)
