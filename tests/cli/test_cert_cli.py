"""`kyodo cert …`: files and modes, fingerprints, the data package, exit 2 with a clear message."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.verification import PolicyBuilder, Store
from defusedxml import ElementTree
from typer.testing import CliRunner

from kyodo.cli import app
from kyodo.pki import files, names

runner = CliRunner()


class Outputs:
    """Everything the commands printed, to check no private key material ever reached a terminal."""

    def __init__(self) -> None:
        self.text: list[str] = []

    def run(self, *args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, ["cert", *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # an uncaught error is a bug, never an exit code
        self.text += [result.stdout, result.stderr]
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Outputs]:
    outputs = Outputs()
    yield outputs
    printed = "".join(outputs.text)
    assert "PRIVATE KEY" not in printed
    for key_file in tmp_path.rglob("*.key"):
        body = "".join(key_file.read_text().splitlines()[1:-1])
        for start in range(0, len(body) - 16, 16):
            assert body[start : start + 16] not in printed.replace("\n", "")


@pytest.fixture
def made(cli: Outputs, tmp_path: Path) -> Path:
    """A CA, a server certificate and a client certificate for tanaka.k, made by the CLI."""
    assert cli.run("ca", "--out", str(tmp_path / "ca"), "--name", "Kyodo Test CA")[0] == 0
    code, _, err = cli.run(
        "server", "--ca", str(tmp_path / "ca"), "--out", str(tmp_path / "server"),
        "--host", "kyodo.example", "--host", "192.0.2.10",
    )  # fmt: skip
    assert (code, err) == (0, "")
    code, _, err = cli.run(
        "client", "tanaka.k", "--ca", str(tmp_path / "ca"), "--out", str(tmp_path / "clients"),
        "--org", "JGSDF", "--person-id", "p-42",
    )  # fmt: skip
    assert (code, err) == (0, "")
    return tmp_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- ca, server, client --------------------------------------------------------------------------


def test_ca_writes_the_certificate_and_a_0600_key(cli: Outputs, tmp_path: Path) -> None:
    code, out, err = cli.run("ca", "--out", str(tmp_path / "ca"), "--name", "HQ CA", "--days", "30")
    assert (code, err) == (0, "")
    assert mode(tmp_path / "ca" / "ca.key") == 0o600
    assert mode(tmp_path / "ca" / "ca.pem") == 0o644
    ca = files.load_ca(tmp_path / "ca")
    assert "subject:     CN=HQ CA" in out
    assert f"sha256:      {ca.fingerprint}" in out
    lifetime = ca.certificate.not_valid_after_utc - ca.certificate.not_valid_before_utc
    assert lifetime.days == 30


def test_an_existing_ca_is_kept_without_force(cli: Outputs, made: Path) -> None:
    before = files.load_ca(made / "ca").fingerprint
    code, out, err = cli.run("ca", "--out", str(made / "ca"))
    assert (code, out) == (2, "")
    assert err == f"error: {made / 'ca' / 'ca.pem'} already exists; pass --force to replace it\n"
    assert files.load_ca(made / "ca").fingerprint == before
    assert cli.run("ca", "--out", str(made / "ca"), "--force")[0] == 0
    assert files.load_ca(made / "ca").fingerprint != before


def test_the_server_and_client_certificates_verify_against_the_ca(made: Path) -> None:
    ca = files.load_ca(made / "ca").certificate
    server = files.load_pair(made / "server" / "server.pem", made / "server" / "server.key")
    client = files.load_pair(made / "clients" / "tanaka.k.pem", made / "clients" / "tanaka.k.key")
    policy = PolicyBuilder().store(Store([ca]))
    policy.build_server_verifier(x509.DNSName("kyodo.example")).verify(server.certificate, [])
    policy.build_client_verifier().verify(client.certificate, [])
    assert names.person_id_of(client.certificate) == "p-42"
    assert mode(made / "server" / "server.key") == mode(made / "clients" / "tanaka.k.key") == 0o600


def test_client_prints_the_fingerprint_that_fingerprint_prints(cli: Outputs, made: Path) -> None:
    code, out, _ = cli.run("fingerprint", str(made / "clients" / "tanaka.k.pem"))
    assert code == 0
    expected = names.fingerprint(files.load_certificate(made / "clients" / "tanaka.k.pem"))
    assert out == f"{expected}\n"
    # The client command's last line is the one an operator copies into the registration.
    code, out, _ = cli.run(
        "client", "tanaka.k", "--ca", str(made / "ca"), "--out", str(made / "again")
    )
    assert code == 0
    again = names.fingerprint(files.load_certificate(made / "again" / "tanaka.k.pem"))
    assert out.splitlines()[-1] == f"register this fingerprint to tanaka.k: {again}"
    assert again != expected  # a new key: a new certificate to register


def test_a_missing_ca_exits_2_and_says_how_to_make_one(cli: Outputs, tmp_path: Path) -> None:
    for command in (
        ["server", "--ca", str(tmp_path / "nope"), "--out", str(tmp_path / "s"), "--host", "h"],
        ["client", "tanaka.k", "--ca", str(tmp_path / "nope"), "--out", str(tmp_path / "c")],
    ):
        code, out, err = cli.run(*command)
        assert (code, out) == (2, "")
        assert err.startswith(f"error: no certificate at {tmp_path / 'nope' / 'ca.pem'}")
        assert "kyodo cert ca --out DIR" in err
    assert not (tmp_path / "s").exists() and not (tmp_path / "c").exists()


@pytest.mark.parametrize("host", ["bad host", "10.0.0.999", "-x.example", ""])
def test_a_bad_host_exits_2(cli: Outputs, made: Path, host: str) -> None:
    code, out, err = cli.run(
        "server", "--ca", str(made / "ca"), "--out", str(made / "s2"), "--host", host
    )
    assert (code, out) == (2, "")
    assert err == f"error: {host!r} is neither an IP address nor a DNS host name\n"
    assert not (made / "s2").exists()


def test_a_bad_username_exits_2(cli: Outputs, made: Path) -> None:
    code, _, err = cli.run("client", "../evil", "--ca", str(made / "ca"), "--out", str(made))
    assert code == 2
    assert "cannot name a certificate" in err
    assert not (made / "evil.pem").exists()


def test_an_existing_client_certificate_is_kept_without_force(cli: Outputs, made: Path) -> None:
    before = (made / "clients" / "tanaka.k.key").read_bytes()
    code, _, err = cli.run(
        "client", "tanaka.k", "--ca", str(made / "ca"), "--out", str(made / "clients")
    )
    assert code == 2 and "pass --force" in err
    assert (made / "clients" / "tanaka.k.key").read_bytes() == before


def test_rsa_is_available(cli: Outputs, made: Path) -> None:
    code, _, _ = cli.run(
        "client", "rsa.user", "--ca", str(made / "ca"), "--out", str(made / "c"),
        "--key-type", "rsa",
    )  # fmt: skip
    assert code == 0
    key = files.load_private_key(made / "c" / "rsa.user.key")
    assert key.key_size == 3072


# --- package -------------------------------------------------------------------------------------


def _prefs(package: zipfile.ZipFile) -> dict[str, str]:
    root = ElementTree.fromstring(package.read("certs/server.pref"))
    return {str(e.get("key")): e.text or "" for e in root.iter("entry")}


def package_args(
    made: Path,
    *extra: str,
    username: str = "tanaka.k",
    ca: str = "ca",
    host: str = "kyodo.example",
) -> list[str]:
    return [
        "package", username, "--ca", str(made / ca), "--client", str(made / "clients"),
        "--server-host", host, "--out", str(made / "tanaka.zip"), *extra,
    ]  # fmt: skip


def test_package_writes_a_0600_zip_for_the_device(cli: Outputs, made: Path) -> None:
    code, out, err = cli.run(*package_args(made, "--port", "18089", "--password", "atak-pw"))
    assert (code, err) == (0, "")
    assert "server:       kyodo.example:18089:ssl" in out
    assert "atak-pw" not in out
    zip_path = made / "tanaka.zip"
    assert mode(zip_path) == 0o600
    with zipfile.ZipFile(zip_path) as package:
        assert sorted(package.namelist()) == [
            "MANIFEST/manifest.xml",
            "certs/server.pref",
            "certs/tanaka.k.p12",
            "certs/truststore.p12",
        ]
        prefs = _prefs(package)
        key, cert, cas = pkcs12.load_key_and_certificates(
            package.read("certs/tanaka.k.p12"), b"atak-pw"
        )
    assert prefs["connectString0"] == "kyodo.example:18089:ssl"
    assert prefs["clientPassword"] == prefs["caPassword"] == "atak-pw"
    client = files.load_pair(made / "clients" / "tanaka.k.pem", made / "clients" / "tanaka.k.key")
    assert cert == client.certificate
    assert key is not None and key.public_key() == client.key.public_key()
    assert cas == [files.load_ca(made / "ca").certificate]


def test_package_without_a_password_makes_a_random_one_and_defaults_to_8089(
    cli: Outputs, made: Path
) -> None:
    assert cli.run(*package_args(made))[0] == 0
    with zipfile.ZipFile(made / "tanaka.zip") as package:
        prefs = _prefs(package)
        p12 = package.read("certs/tanaka.k.p12")
    assert prefs["connectString0"] == "kyodo.example:8089:ssl"
    assert len(prefs["clientPassword"]) >= 16
    assert pkcs12.load_key_and_certificates(p12, prefs["clientPassword"].encode())[1] is not None


def test_package_refuses_an_existing_zip_a_missing_client_and_a_foreign_one(
    cli: Outputs, made: Path
) -> None:
    (made / "tanaka.zip").write_bytes(b"keep me")
    code, _, err = cli.run(*package_args(made))
    assert code == 2 and "tanaka.zip already exists; pass --force" in err
    assert (made / "tanaka.zip").read_bytes() == b"keep me"

    code, _, err = cli.run(*package_args(made, "--force", username="nobody"))
    assert code == 2
    assert f"no certificate at {made / 'clients' / 'nobody.pem'}" in err
    assert "kyodo cert client nobody" in err

    assert cli.run("ca", "--out", str(made / "other"))[0] == 0
    code, _, err = cli.run(*package_args(made, "--force", ca="other"))
    assert code == 2
    assert "was not issued by the CA" in err
    assert (made / "tanaka.zip").read_bytes() == b"keep me"


@pytest.mark.parametrize(
    ("host", "message"),
    [("::1", "cannot hold IPv6"), ("bad host", "neither an IP address nor a DNS host name")],
)
def test_package_refuses_a_server_host_a_device_cannot_use(
    cli: Outputs, made: Path, host: str, message: str
) -> None:
    code, _, err = cli.run(*package_args(made, host=host))
    assert code == 2 and message in err
    assert not (made / "tanaka.zip").exists()


def test_modern_p12_still_opens(cli: Outputs, made: Path) -> None:
    assert cli.run(*package_args(made, "--modern-p12", "--password", "pw"))[0] == 0
    data = (made / "tanaka.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        p12 = package.read("certs/tanaka.k.p12")
    assert pkcs12.load_key_and_certificates(p12, b"pw")[1] is not None


# --- fingerprint ---------------------------------------------------------------------------------


def test_fingerprint_of_something_that_is_not_a_certificate_exits_2(
    cli: Outputs, made: Path
) -> None:
    code, out, err = cli.run("fingerprint", str(made / "clients" / "tanaka.k.key"))
    assert (code, out) == (2, "")
    assert (
        err == f"error: {made / 'clients' / 'tanaka.k.key'} holds no readable X.509 certificate\n"
    )
    code, _, err = cli.run("fingerprint", str(made / "missing.pem"))
    assert (code, err) == (2, f"error: no certificate at {made / 'missing.pem'}\n")


def test_the_group_lists_its_commands() -> None:
    result = runner.invoke(app, ["cert", "--help"])
    assert result.exit_code == 0
    for command in ("ca", "server", "client", "package", "fingerprint"):
        assert command in result.stdout
