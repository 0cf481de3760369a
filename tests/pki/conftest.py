"""Fixtures of the pki tests: one chain per module (RSA and EC keys take a while)."""

from __future__ import annotations

import pytest

from kyodo.pki import issuing

from tests.pki.chain import HOSTS, Chain


@pytest.fixture(scope="module")
def chain() -> Chain:
    ca = issuing.create_ca("Kyodo Test CA", org="Kyodo")
    return Chain(
        ca=ca,
        server=issuing.create_server_cert(ca, HOSTS),
        client=issuing.create_client_cert(
            ca, "tanaka.k", org="JGSDF", unit="WAIR", person_id="p-42"
        ),
    )


@pytest.fixture(scope="module")
def other_ca() -> issuing.CertifiedKey:
    return issuing.create_ca("Somebody Else's CA")
