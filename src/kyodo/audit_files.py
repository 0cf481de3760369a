"""The audit seal's files: the signing key and the checkpoint log (the I/O edge of audit.seal)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from kyodo.audit.seal import Checkpoint, checkpoint_from_dict
from kyodo.errors import ErrorCode, KyodoError

if TYPE_CHECKING:
    from kyodo.settings import Settings


class SealFileError(KyodoError):
    """The seal key or checkpoint log cannot be used as it is (the server does not start)."""

    code = ErrorCode.UNAVAILABLE


def seal_paths(settings: Settings) -> tuple[Path, Path]:
    """The key file and the checkpoint log: as configured, else beside a SQLite database file
    (`<db>.audit-seal.key`, `<db>.audit-checkpoints.jsonl`), else in the user's state folder
    named after the database. Either way outside the database, which is the point."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        stem = Path(url.database).resolve()
        base = stem.parent / stem.name
    else:
        state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        name = f"{url.host or 'local'}-{url.port or 0}-{url.database or 'kyodo'}"
        base = state / "kyodo" / name
    key = settings.audit_key_file or base.with_name(base.name + ".audit-seal.key")
    log = settings.audit_checkpoint_file or base.with_name(base.name + ".audit-checkpoints.jsonl")
    return key, log


def create_key(path: Path) -> Ed25519PrivateKey:
    """A new key, written 0600 and never over an existing file (O_EXCL); the public half
    beside it (`.pub`), for whoever checks published checkpoints."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path.with_name(path.name + ".pub").write_bytes(public)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    """The key in `path`; refused if others than its owner may read or change it."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SealFileError(f"cannot read the audit seal key {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SealFileError(
            f"the audit seal key {path} is open to other users (mode {stat.filemode(mode)}): "
            f"chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise SealFileError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SealFileError(f"{path} is not an Ed25519 key")
    return key


def ensure_key(path: Path, log: CheckpointFile) -> Ed25519PrivateKey:
    """The key, created if missing — but only while nothing has been sealed yet: a new key
    for a log with checkpoints could not vouch for them, and a key that went missing is a
    matter for the operator, not something to paper over."""
    if path.exists():
        return load_key(path)
    if log.read() or log.malformed:
        raise SealFileError(
            f"there is no audit seal key at {path}, but {log.path} holds sealed checkpoints: "
            "restore the key (a new one could not verify them), or configure KYODO_AUDIT_KEY_FILE"
        )
    return create_key(path)


class CheckpointFile:
    """Checkpoints as JSON lines, appended (O_APPEND: whole lines, also from several
    processes) and fsynced; lines that are not checkpoints are kept in `malformed`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.malformed: list[str] = []

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Checkpoint]:
        self.malformed = []
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError("not an object")
                found.append(checkpoint_from_dict(value))
            except ValueError as exc:
                self.malformed.append(f"{self.path} line {number} is not a checkpoint: {exc}")
        return found
