"""Registering TLS client certificates to people (`kyodo user register-cert|revoke-cert`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kyodo.errors import Unauthenticated
from kyodo.pki.files import certificate_pem
from kyodo.pki.issuing import create_ca, create_client_cert
from kyodo.pki.names import fingerprint
from kyodo.services import auth
from kyodo.services.actor import Actor
from kyodo.services.context import ServiceContext

from tests.support.factories import add_person
from tests.support.live import kyodo

pytestmark = pytest.mark.slow  # every test runs `kyodo` as a real process


async def test_a_registered_certificate_authenticates_its_person_until_revoked(
    ctx: ServiceContext, operator: Actor, database_url: str, tmp_path: Path
) -> None:
    person = await add_person(ctx, operator, "sato", nation="JPN", clearance="GOKUHI")
    ca = create_ca()
    client = create_client_cert(ca, "sato")
    pem = tmp_path / "sato.pem"
    pem.write_bytes(certificate_pem(client.certificate))
    digest = fingerprint(client.certificate)
    with pytest.raises(Unauthenticated):
        await auth.authenticate_certificate(ctx, digest)
    db = ("--database-url", database_url)
    registered = kyodo("user", "register-cert", "sato", "--cert", str(pem), *db)
    assert registered.returncode == 0, registered.stderr
    assert digest in registered.stdout
    actor = await auth.authenticate_certificate(ctx, digest)
    assert actor.subject.id == person.id and actor.via == "cot"
    again = kyodo("user", "register-cert", "sato", "--fingerprint", digest, *db)
    assert again.returncode == 2 and "registered already" in again.stderr
    both = kyodo("user", "register-cert", "sato", *db)
    assert both.returncode == 2
    revoked = kyodo("user", "revoke-cert", digest, *db)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(Unauthenticated):
        await auth.authenticate_certificate(ctx, digest)
    async with ctx.db.transaction(write=False) as tx:
        actions = [r.entry.action async for r in tx.audit.walk()]
    assert "person.certificate" in actions and "person.certificate_revoke" in actions
