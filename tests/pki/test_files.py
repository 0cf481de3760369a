"""`kyodo.pki.files`: keys at 0600, nothing clobbered, loading says what is wrong."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from kyodo.errors import Conflict, InvalidInput, NotFound
from kyodo.pki import files, names

from tests.pki.chain import Chain

# --- files ---------------------------------------------------------------------------------------


def test_keys_are_written_0600_and_certificates_0644(chain: Chain, tmp_path: Path) -> None:
    cert_path, key_path = files.write_pair(chain.ca, tmp_path / "new" / "ca", "ca")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert_path.stat().st_mode) == 0o644
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["ca.key", "ca.pem"]
    assert files.load_ca(key_path.parent).fingerprint == chain.ca.fingerprint


def test_existing_files_are_kept_unless_forced(chain: Chain, tmp_path: Path) -> None:
    files.write_pair(chain.client, tmp_path, "user")
    before = (tmp_path / "user.key").read_bytes()
    with pytest.raises(Conflict, match="already exists"):
        files.write_pair(chain.server, tmp_path, "user")
    assert (tmp_path / "user.key").read_bytes() == before
    (tmp_path / "user.key").chmod(0o644)  # someone loosened it: a forced rewrite restores 0600
    files.write_pair(chain.server, tmp_path, "user", force=True)
    assert files.load_pair(tmp_path / "user.pem", tmp_path / "user.key").fingerprint == (
        chain.server.fingerprint
    )
    assert stat.S_IMODE((tmp_path / "user.key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.key", "user.pem"]


def test_loading_reports_what_is_missing_or_wrong(chain: Chain, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no certificate at"):
        files.load_ca(tmp_path)
    files.write_pair(chain.server, tmp_path, "ca")
    with pytest.raises(InvalidInput, match="not a CA"):
        files.load_ca(tmp_path)
    files.write_file(
        tmp_path / "ca.key", files.private_key_pem(chain.client.key), mode=0o600, force=True
    )
    with pytest.raises(InvalidInput, match="is not the key of"):
        files.load_ca(tmp_path)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(InvalidInput, match=r"no readable X\.509 certificate"):
        files.load_certificate(tmp_path / "junk.pem")
    with pytest.raises(InvalidInput, match="no readable unencrypted private key"):
        files.load_private_key(tmp_path / "junk.pem")


def test_a_der_certificate_loads_too(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "c.der"
    path.write_bytes(chain.client.certificate.public_bytes(serialization.Encoding.DER))
    assert names.fingerprint(files.load_certificate(path)) == chain.client.fingerprint
