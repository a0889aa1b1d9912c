"""Wrapping a data key under a master key: AES-256-GCM, with the case id and purpose as associated data,
so that a wrapped key moved to another case's row does not unwrap."""

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class UnwrapFailed(Exception):
    """The wrapped key does not open under this master key (wrong key, or the bytes were changed)."""


def master_key_id(master_key: bytes) -> str:
    """A short public name for a master key, so that rows say which key wrapped them. It reveals nothing
    useful about the key (a truncated hash under a fixed label)."""
    return hashlib.sha256(b"mend master key id\x00" + master_key).hexdigest()[:16]


def _aad(case_id: int, purpose: str) -> bytes:
    return f"mend/keystore/v1|case:{int(case_id)}|purpose:{purpose}".encode()


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap(master_key: bytes, *, case_id: int, purpose: str, data_key: bytes) -> bytes:
    if len(master_key) != KEY_BYTES or len(data_key) != KEY_BYTES:
        raise ValueError("keys are 32 bytes")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, data_key, _aad(case_id, purpose))


def unwrap(master_key: bytes, *, case_id: int, purpose: str, wrapped: bytes) -> bytes:
    wrapped = bytes(wrapped)
    try:
        key = AESGCM(master_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(case_id, purpose))
    except (InvalidTag, ValueError):
        raise UnwrapFailed(f"the data key of case {case_id} does not open under this master key") from None
    if len(key) != KEY_BYTES:
        raise UnwrapFailed(f"the data key of case {case_id} has the wrong length")
    return key
