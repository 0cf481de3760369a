"""Keyed checkpoints of the audit chain: (seq, head hash, time) signed with Ed25519 (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# Signed bytes start with this, so a checkpoint signature can never pass for anything else.
_DOMAIN = b"kyodo-audit-checkpoint-v1\n"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head at a moment, sealed: whoever holds the public key can check that the
    record `seq` had hash `head_hash` then — the log cannot later be cut below it, or an older
    record edited and the chain re-hashed, without the checkpoint showing it."""

    seq: int
    head_hash: str
    time: str
    signature: str  # Ed25519 over checkpoint_bytes, hex

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "time": self.time,
            "signature": self.signature,
        }


def checkpoint_bytes(seq: int, head_hash: str, time: str) -> bytes:
    """The exact bytes signed."""
    body = {"seq": seq, "head_hash": head_hash, "time": time}
    return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, head_hash: str, time: str) -> Checkpoint:
    """Seal the head `seq`/`head_hash` as it was at `time`."""
    signature = key.sign(checkpoint_bytes(seq, head_hash, time)).hex()
    return Checkpoint(seq, head_hash, time, signature)


def is_sealed(public: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    """Whether the checkpoint was signed by the key whose public half this is."""
    try:
        signature = bytes.fromhex(checkpoint.signature)
        public.verify(
            signature, checkpoint_bytes(checkpoint.seq, checkpoint.head_hash, checkpoint.time)
        )
    except (ValueError, InvalidSignature):
        return False
    return True


def checkpoint_from_dict(value: Mapping[str, Any]) -> Checkpoint:
    """A checkpoint from its JSON object; ValueError if it is not one."""
    seq, head, time, signature = (value.get(k) for k in ("seq", "head_hash", "time", "signature"))
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("seq must be a positive integer")
    if not isinstance(head, str) or len(head) != 64:
        raise ValueError("head_hash must be 64 hex digits")
    if not isinstance(time, str) or not isinstance(signature, str):
        raise ValueError("time and signature must be strings")
    return Checkpoint(seq, head, time, signature)


def sealed_anchors(
    checkpoints: Iterable[Checkpoint], public: Ed25519PublicKey
) -> tuple[dict[int, str], list[str]]:
    """The anchors (seq → hash) the checkpoints sealed with this key vouch for, and what is
    wrong with the others: a checkpoint that does not verify is forged or made with another
    key; two sealed ones that disagree on a seq mean the chain was rewritten between them."""
    anchors: dict[int, str] = {}
    problems: list[str] = []
    for checkpoint in checkpoints:
        if not is_sealed(public, checkpoint):
            problems.append(
                f"checkpoint at record {checkpoint.seq} ({checkpoint.time}) does not verify "
                "with the seal key: forged, altered, or made with another key"
            )
            continue
        known = anchors.setdefault(checkpoint.seq, checkpoint.head_hash)
        if known != checkpoint.head_hash:
            problems.append(
                f"two sealed checkpoints disagree on record {checkpoint.seq}: the chain was "
                "rewritten after the first of them"
            )
    return anchors, problems
