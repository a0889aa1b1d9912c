"""Signed checkpoints: an Ed25519 signature, with the server's audit key, over a (seq, hash) of the chain.

A checkpoint is printed and kept as JSON: `{"format", "seq", "hash", "at", "public_key", "signature"}`,
with the hash in hex and the key and signature in base64url. The signature covers the RFC 8785 JSON of
every field but the signature itself."""

import base64
import binascii
import json
import re
from datetime import UTC, datetime

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

FORMAT = "mend.audit.checkpoint/1"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def server_key() -> Ed25519PrivateKey:
    # settings.MEND_AUDIT_KEY is 32 random bytes: the Ed25519 private key seed.
    return Ed25519PrivateKey.from_private_bytes(settings.MEND_AUDIT_KEY)


def server_public_key() -> str:
    return b64(server_key().public_key().public_bytes_raw())


def at_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def statement(*, seq: int, hash: str, at: str, public_key: str) -> dict:
    return {"format": FORMAT, "seq": seq, "hash": hash, "at": at, "public_key": public_key}


def sign(body: dict) -> str:
    """Signs a statement with the server key; the statement must name the server's public key."""
    assert body["public_key"] == server_public_key(), "a checkpoint names the key that signs it"
    return b64(server_key().sign(rfc8785.dumps(body)))


def signature_valid(body: dict, signature: str) -> bool:
    """Whether `signature` is the signature of `body` by the key the body names."""
    try:
        key = Ed25519PublicKey.from_public_bytes(unb64(body["public_key"]))
        key.verify(unb64(signature), rfc8785.dumps(body))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def parse(text: str) -> tuple[dict, str]:
    """Reads a printed checkpoint back into (statement, signature); ValueError says what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("it is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"it is not a {FORMAT} object")
    fields = ("seq", "hash", "at", "public_key", "signature")
    missing = [name for name in fields if name not in data]
    if missing:
        raise ValueError(f"it lacks {', '.join(missing)}")
    if not isinstance(data["seq"], int) or isinstance(data["seq"], bool) or data["seq"] < 1:
        raise ValueError("its seq is not a positive whole number")
    if not isinstance(data["hash"], str) or not _HEX64.fullmatch(data["hash"]):
        raise ValueError("its hash is not 64 hex digits")
    if not all(isinstance(data[name], str) for name in ("at", "public_key", "signature")):
        raise ValueError("its at, public_key and signature must be text")
    body = statement(seq=data["seq"], hash=data["hash"], at=data["at"], public_key=data["public_key"])
    return body, data["signature"]
