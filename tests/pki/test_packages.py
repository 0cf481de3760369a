"""`kyodo.pki.packages`: PKCS#12 files and the TAK data package."""

from __future__ import annotations

import io
import zipfile

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from defusedxml import ElementTree

from kyodo.errors import InvalidInput
from kyodo.pki import packages

from tests.pki.chain import Chain

# --- PKCS#12 and the data package ----------------------------------------------------------------


@pytest.mark.parametrize("legacy", [True, False])
def test_the_client_p12_opens_with_its_password_only(chain: Chain, legacy: bool) -> None:
    data = packages.client_p12(chain.client, chain.ca.certificate, "s3cret", legacy=legacy)
    key, cert, extra = pkcs12.load_key_and_certificates(data, b"s3cret")
    assert cert == chain.client.certificate
    assert key is not None and key.public_key() == chain.client.key.public_key()
    assert extra == [chain.ca.certificate]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, b"wrong")


def test_the_truststore_holds_the_ca_and_no_key(chain: Chain) -> None:
    data = packages.truststore_p12(chain.ca.certificate, "s3cret")
    assert pkcs12.load_key_and_certificates(data, b"s3cret") == (
        None,
        None,
        [chain.ca.certificate],
    )


def test_an_empty_password_is_refused(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="password"):
        packages.truststore_p12(chain.ca.certificate, "")


def _package(chain: Chain, **kw: object) -> zipfile.ZipFile:
    args: dict[str, object] = {
        "username": "tanaka.k",
        "server_host": "kyodo.example",
        "password": "s3cret",
    }
    args.update(kw)
    data = packages.data_package(chain.client, chain.ca.certificate, **args)  # type: ignore[arg-type]
    return zipfile.ZipFile(io.BytesIO(data))


def _entries(xml: bytes, preference: str) -> dict[str, str]:
    root = ElementTree.fromstring(xml)
    node = root.find(f"preference[@name='{preference}']")
    assert node is not None
    return {str(e.get("key")): e.text or "" for e in node.findall("entry")}


def test_the_package_holds_the_expected_entries(chain: Chain) -> None:
    with _package(chain) as package:
        assert sorted(package.namelist()) == [
            "MANIFEST/manifest.xml",
            "certs/server.pref",
            "certs/tanaka.k.p12",
            "certs/truststore.p12",
        ]
        manifest = ElementTree.fromstring(package.read("MANIFEST/manifest.xml"))
    assert manifest.tag == "MissionPackageManifest" and manifest.get("version") == "2"
    listed = [c.get("zipEntry") for c in manifest.iter("Content")]
    assert listed == ["certs/server.pref", "certs/truststore.p12", "certs/tanaka.k.p12"]
    params = {p.get("name"): p.get("value") for p in manifest.iter("Parameter")}
    assert params["onReceiveImport"] == "true"
    assert params["name"] == "Kyodo tanaka.k@kyodo.example"


def test_the_pref_points_at_host_port_ssl_and_the_certificates(chain: Chain) -> None:
    with _package(chain, port=18089) as package:
        pref = package.read("certs/server.pref")
        client = package.read("certs/tanaka.k.p12")
        trust = package.read("certs/truststore.p12")
    assert pref.startswith(b"<?xml version='1.0' encoding='ASCII' standalone='yes'?>")
    streams = _entries(pref, "cot_streams")
    assert streams["count"] == "1"
    assert streams["enabled0"] == "true"
    assert streams["connectString0"] == "kyodo.example:18089:ssl"
    app = _entries(pref, "com.atakmap.app_preferences")
    for entries, suffix in ((streams, "0"), (app, "")):
        assert entries[f"caLocation{suffix}"] == "cert/truststore.p12"
        assert entries[f"certificateLocation{suffix}"] == "cert/tanaka.k.p12"
        password = entries[f"clientPassword{suffix}"].encode()
        assert pkcs12.load_key_and_certificates(client, password)[1] == chain.client.certificate
        ca_password = entries[f"caPassword{suffix}"].encode()
        assert pkcs12.load_key_and_certificates(trust, ca_password)[2] == [chain.ca.certificate]


def test_text_outside_ascii_is_escaped_not_mangled(chain: Chain) -> None:
    with _package(chain, description="共同 <HQ> & co", password="pä55") as package:
        pref = package.read("certs/server.pref")
        client = package.read("certs/tanaka.k.p12")
    assert pref.isascii()
    streams = _entries(pref, "cot_streams")
    assert streams["description0"] == "共同 <HQ> & co"
    assert streams["clientPassword0"] == "pä55"
    assert pkcs12.load_key_and_certificates(client, "pä55".encode())[1] is not None


def test_a_reissued_package_keeps_its_uid_so_the_device_replaces_it(chain: Chain) -> None:
    def uid(**kw: object) -> str | None:
        with _package(chain, **kw) as package:
            root = ElementTree.fromstring(package.read("MANIFEST/manifest.xml"))
        return {p.get("name"): p.get("value") for p in root.iter("Parameter")}["uid"]

    assert uid() == uid(password="other")
    assert uid() != uid(server_host="other.example")


def test_the_package_refuses_what_a_connect_string_cannot_hold(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="IPv6"):
        _package(chain, server_host="::1")
    with pytest.raises(InvalidInput, match="port"):
        _package(chain, port=70000)
    with pytest.raises(InvalidInput, match="neither"):
        _package(chain, server_host="bad host")
