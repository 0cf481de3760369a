"""`kyodo cert …`: a CA, server and client certificates and TAK data packages for CoT over TLS."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kyodo.errors import Conflict, KyodoError
from kyodo.pki import files, issuing, names, packages

app = typer.Typer(
    help="Certificates for TAK clients: CA, server and client certificates, data packages.",
    no_args_is_help=True,
)


class KeyTypeChoice(StrEnum):
    """The key algorithms offered on the command line."""

    EC = "ec"
    RSA = "rsa"


CaDir = Annotated[
    Path,
    typer.Option("--ca", metavar="DIR", help="Folder holding ca.pem and ca.key (`kyodo cert ca`)."),
]
OutDir = Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder to write into.")]
Force = Annotated[bool, typer.Option("--force", help="Replace existing files.")]
KeyTypeOpt = Annotated[
    KeyTypeChoice,
    typer.Option("--key-type", help="ec = P-256 (default), rsa = 3072 bits."),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _failure(exc: KyodoError) -> typer.Exit:
    if isinstance(exc, Conflict):
        return _fail(f"{exc.message}; pass --force to replace it")
    return _fail(exc.message)


def _load_ca(directory: Path) -> issuing.CertifiedKey:
    try:
        return files.load_ca(directory)
    except KyodoError as exc:
        raise _fail(f"{exc.message} (make a CA first with `kyodo cert ca --out DIR`)") from None


def _refuse_existing(paths: list[Path], force: bool) -> None:
    """Check before generating keys, so a refused command writes nothing at all."""
    for path in paths:
        if path.exists() and not force:
            raise _fail(f"{path} already exists; pass --force to replace it")


def _report(pair: issuing.CertifiedKey, cert_path: Path, key_path: Path) -> None:
    certificate = pair.certificate
    typer.echo(f"certificate: {cert_path}")
    typer.echo(f"private key: {key_path} (mode 0600; keep it off shared drives)")
    typer.echo(f"subject:     {certificate.subject.rfc4514_string()}")
    typer.echo(f"valid until: {certificate.not_valid_after_utc:%Y-%m-%d %H:%M}Z")
    typer.echo(f"sha256:      {pair.fingerprint}")


@app.command("ca")
def ca_cmd(
    out: OutDir,
    name: Annotated[str, typer.Option("--name", help="The CA's common name.")] = "Kyodo CA",
    org: Annotated[str | None, typer.Option("--org", help="Organisation (O).")] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Validity in days.")] = 3650,
    key_type: KeyTypeOpt = KeyTypeChoice.EC,
    force: Force = False,
) -> None:
    """Create a certificate authority: OUT/ca.pem and OUT/ca.key."""
    cert_path, key_path = files.pair_paths(out, "ca")
    _refuse_existing([cert_path, key_path], force)
    try:
        ca = issuing.create_ca(name, org=org, days=days, key_type=key_type.value)
        files.write_pair(ca, out, "ca", force=force)
    except KyodoError as exc:
        raise _failure(exc) from None
    _report(ca, cert_path, key_path)


@app.command("server")
def server_cmd(
    ca: CaDir,
    out: OutDir,
    host: Annotated[
        list[str],
        typer.Option(
            "--host",
            metavar="NAME_OR_IP",
            help="A DNS name or IP address clients connect to (repeat for more).",
        ),
    ],
    days: Annotated[int, typer.Option("--days", min=1, help="Validity in days.")] = 825,
    key_type: KeyTypeOpt = KeyTypeChoice.EC,
    force: Force = False,
) -> None:
    """Create the TLS server certificate for the CoT listener: OUT/server.pem and OUT/server.key."""
    cert_path, key_path = files.pair_paths(out, "server")
    try:
        for name in host:
            names.parse_host(name)
    except KyodoError as exc:
        raise _failure(exc) from None
    authority = _load_ca(ca)
    _refuse_existing([cert_path, key_path], force)
    try:
        server = issuing.create_server_cert(authority, host, days=days, key_type=key_type.value)
        files.write_pair(server, out, "server", force=force)
    except KyodoError as exc:
        raise _failure(exc) from None
    _report(server, cert_path, key_path)


@app.command("client")
def client_cmd(
    username: Annotated[str, typer.Argument(help="The person's Kyodo username (becomes the CN).")],
    ca: CaDir,
    out: OutDir,
    org: Annotated[str | None, typer.Option("--org", help="Organisation (O).")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Organisational unit (OU).")] = None,
    person_id: Annotated[
        str | None,
        typer.Option("--person-id", help="Adds the URI SAN urn:kyodo:person:<ID>."),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Validity in days.")] = 365,
    key_type: KeyTypeOpt = KeyTypeChoice.EC,
    force: Force = False,
) -> None:
    """Create a client certificate for one person and print its fingerprint to register."""
    try:
        names.check_username(username)
    except KyodoError as exc:
        raise _failure(exc) from None
    cert_path, key_path = files.pair_paths(out, username)
    authority = _load_ca(ca)
    _refuse_existing([cert_path, key_path], force)
    try:
        client = issuing.create_client_cert(
            authority,
            username,
            org=org,
            unit=unit,
            person_id=person_id,
            days=days,
            key_type=key_type.value,
        )
        files.write_pair(client, out, username, force=force)
    except KyodoError as exc:
        raise _failure(exc) from None
    _report(client, cert_path, key_path)
    typer.echo(f"register this fingerprint to {username}: {client.fingerprint}")


@app.command("package")
def package_cmd(
    username: Annotated[str, typer.Argument(help="Whose certificate goes in the package.")],
    ca: CaDir,
    client: Annotated[
        Path,
        typer.Option(
            "--client", metavar="DIR", help="Folder holding USERNAME.pem and USERNAME.key."
        ),
    ],
    server_host: Annotated[
        str, typer.Option("--server-host", metavar="HOST", help="Where devices connect.")
    ],
    out: Annotated[Path, typer.Option("--out", metavar="FILE.zip", help="The package to write.")],
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="The CoT TLS port.")
    ] = packages.DEFAULT_TLS_PORT,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="KYODO_CERT_PASSWORD",
            help="Password of the .p12 files (default: a random one, written into server.pref).",
        ),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="The server's name on the device.")
    ] = None,
    modern_p12: Annotated[
        bool,
        typer.Option(
            "--modern-p12",
            help="AES-256 PKCS#12 instead of the legacy 3DES that older ATAK needs.",
        ),
    ] = False,
    force: Force = False,
) -> None:
    """Write a TAK data package (zip): client .p12, CA truststore, server.pref, manifest."""
    try:
        names.check_username(username)
        packages.connect_string(server_host, port)
    except KyodoError as exc:
        raise _failure(exc) from None
    authority = _load_ca(ca)
    cert_path, key_path = files.pair_paths(client, username)
    try:
        pair = files.load_pair(cert_path, key_path)
    except KyodoError as exc:
        raise _fail(
            f"{exc.message} (make it with `kyodo cert client {username} --out {client}`)"
        ) from None
    if not issuing.issued_by(pair.certificate, authority.certificate):
        raise _fail(f"{cert_path} was not issued by the CA in {ca}")
    _refuse_existing([out], force)
    try:
        package = packages.data_package(
            pair,
            authority.certificate,
            username=username,
            server_host=server_host,
            port=port,
            password=password or secrets.token_urlsafe(12),
            description=description,
            legacy_p12=not modern_p12,
        )
        files.write_file(out, package, mode=0o600, force=force)
    except KyodoError as exc:
        raise _failure(exc) from None
    typer.echo(f"data package: {out} (mode 0600: it holds {username}'s private key)")
    typer.echo(f"server:       {packages.connect_string(server_host, port)}")
    typer.echo(f"sha256:       {pair.fingerprint}")
    typer.echo("import it on the device, then delete it; the .p12 password is in its server.pref")


@app.command("fingerprint")
def fingerprint_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE.pem", help="A certificate (PEM or DER).")],
) -> None:
    """Print the SHA-256 fingerprint of a certificate, in the form registered to a person."""
    try:
        certificate = files.load_certificate(file)
    except KyodoError as exc:
        raise _failure(exc) from None
    typer.echo(names.fingerprint(certificate))
