"""The certificate chain the pki tests share."""

from __future__ import annotations

from dataclasses import dataclass

from kyodo.pki import issuing

HOSTS = ["kyodo.example", "127.0.0.1"]


@dataclass(frozen=True)
class Chain:
    ca: issuing.CertifiedKey
    server: issuing.CertifiedKey
    client: issuing.CertifiedKey
