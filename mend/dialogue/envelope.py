"""Envelope v1 and the sign-in key derivation, with `cryptography`: the same format as the browser's
`static/mend/e2e.js`, for the command-line client, the demo and the tests. See docs/crypto.md."""

import base64
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass

import rfc8785
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

VERSION = 1
PBKDF2_ITERATIONS = 600_000  # the least any client accepts; fixed by the client, never by the server
PAD_BLOCK = 256
MAX_TEXT_CHARS = 20_000
MAX_BODY_BYTES = 96 * 1024  # padded, encrypted content of one message
MAX_RECIPIENTS = 64
MAX_FILES = 4
MAX_FILE_BYTES = 10 * 1024 * 1024  # plaintext; the stored ciphertext is 16 bytes longer
MESSAGE_KINDS = ("message", "for_relay", "relayed", "returned")

_B64U = re.compile(r"[A-Za-z0-9_-]*")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class EnvelopeError(ValueError):
    """The envelope cannot be accepted or opened; the message says what is wrong."""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str, *, length: int | None = None, what: str = "value") -> bytes:
    if not isinstance(text, str) or not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise EnvelopeError(f"The {what} is not base64url text.")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(data) != text:  # one text per value, so that an envelope cannot be varied without its signature
        raise EnvelopeError(f"The {what} is not canonical base64url text.")
    if length is not None and len(data) != length:
        raise EnvelopeError(f"The {what} must be {length} bytes.")
    return data


def canonical(value) -> bytes:
    """RFC 8785 canonical JSON: what is signed and what binds ciphertexts to their context."""
    return rfc8785.dumps(value)


def _hkdf(ikm: bytes, info: str, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info.encode()).derive(ikm)


# Sign-in: the secret never leaves the browser; the server receives the authentication key only.


def sign_in_salt(identifier: str) -> bytes:
    return hashlib.sha256(("mend/v1/sign-in|" + identifier.strip().lower()).encode()).digest()


def derive_sign_in(identifier: str, secret: str, iterations: int = PBKDF2_ITERATIONS) -> tuple[str, bytes]:
    """(authentication key as sent to the server, wrapping key that stays with the person)."""
    if iterations < PBKDF2_ITERATIONS:
        raise EnvelopeError(f"Refusing PBKDF2 with fewer than {PBKDF2_ITERATIONS} iterations.")
    master = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=sign_in_salt(identifier), iterations=iterations
    ).derive(secret.encode())
    return b64u(_hkdf(master, "mend/v1/auth")), _hkdf(master, "mend/v1/wrap")


def derive_recovery(code: str) -> tuple[str, bytes]:
    """(recovery authentication key, recovery wrapping key) from a recovery code."""
    raw = recovery_code_bytes(code)
    return b64u(_hkdf(raw, "mend/v1/recovery-auth")), _hkdf(raw, "mend/v1/recovery-wrap")


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_recovery_code() -> str:
    value = base64.b32encode(os.urandom(20)).decode()
    return "-".join(value[i : i + 4] for i in range(0, 32, 4))


def recovery_code_bytes(code: str) -> bytes:
    letters = re.sub(r"[\s-]", "", (code or "").upper())
    if len(letters) != 32 or any(c not in _B32 for c in letters):
        raise EnvelopeError("A recovery code has 32 letters and digits, in groups of four.")
    return base64.b32decode(letters)


def recovery_verifier(recovery_auth: str) -> str:
    return hashlib.sha256(recovery_auth.encode()).hexdigest()


# A person's keys.


def fingerprint(enc_public: bytes, sign_public: bytes) -> bytes:
    return hashlib.sha256(b"mend/v1/fingerprint" + enc_public + sign_public).digest()


def key_id_of(enc_public: bytes, sign_public: bytes) -> str:
    return b64u(fingerprint(enc_public, sign_public)[:16])


def safety_code_of(enc_public: bytes, sign_public: bytes) -> str:
    """Twelve digits two people can read to each other to check they hold each other's real keys."""
    number = int.from_bytes(fingerprint(enc_public, sign_public)[:8], "big") % 10**12
    digits = f"{number:012d}"
    return " ".join(digits[i : i + 4] for i in range(0, 12, 4))


@dataclass
class KeyPair:
    enc: X25519PrivateKey
    sign: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> "KeyPair":
        return cls(X25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @property
    def enc_public(self) -> bytes:
        return self.enc.public_key().public_bytes_raw()

    @property
    def sign_public(self) -> bytes:
        return self.sign.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return key_id_of(self.enc_public, self.sign_public)

    def public(self) -> dict:
        return {"enc_public": b64u(self.enc_public), "sign_public": b64u(self.sign_public)}

    def to_file(self) -> dict:
        """The local key file of the command-line client (keep it private: it is the person's keys)."""
        return {
            "v": VERSION,
            "enc_private": b64u(self.enc.private_bytes_raw()),
            "sign_private": b64u(self.sign.private_bytes_raw()),
        }

    @classmethod
    def from_file(cls, data: dict) -> "KeyPair":
        return cls(
            X25519PrivateKey.from_private_bytes(unb64u(data["enc_private"], length=32)),
            Ed25519PrivateKey.from_private_bytes(unb64u(data["sign_private"], length=32)),
        )


def _pkcs8(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _wrap_one(wrap_key: bytes, key, kind: str, iv: bytes | None = None) -> dict:
    iv = iv or os.urandom(12)
    return {
        "iv": b64u(iv),
        "ct": b64u(AESGCM(wrap_key).encrypt(iv, _pkcs8(key), f"mend/v1/key|{kind}".encode())),
    }


def _unwrap_one(wrap_key: bytes, wrapped: dict, kind: str) -> bytes:
    try:
        return AESGCM(wrap_key).decrypt(
            unb64u(wrapped["iv"], length=12), unb64u(wrapped["ct"]), f"mend/v1/key|{kind}".encode()
        )
    except (InvalidTag, KeyError, TypeError, AttributeError) as error:
        raise EnvelopeError("These keys do not open with that passphrase or code.") from error


def wrap_keys(wrap_key: bytes, keys: KeyPair) -> dict:
    return {
        "v": VERSION,
        "kdf": {"name": "PBKDF2-SHA-256", "iterations": PBKDF2_ITERATIONS},
        "enc_private": _wrap_one(wrap_key, keys.enc, "enc"),
        "sign_private": _wrap_one(wrap_key, keys.sign, "sign"),
    }


def unwrap_keys(wrap_key: bytes, wrapped: dict) -> KeyPair:
    kdf = wrapped.get("kdf") if isinstance(wrapped, dict) else None
    iterations = kdf.get("iterations") if isinstance(kdf, dict) else None
    if (
        not isinstance(kdf, dict)
        or kdf.get("name") != "PBKDF2-SHA-256"
        or type(iterations) is not int
        or iterations < PBKDF2_ITERATIONS
    ):
        raise EnvelopeError(f"Refusing keys wrapped with fewer than {PBKDF2_ITERATIONS} PBKDF2 iterations.")
    return KeyPair(
        serialization.load_der_private_key(_unwrap_one(wrap_key, wrapped.get("enc_private"), "enc"), None),
        serialization.load_der_private_key(_unwrap_one(wrap_key, wrapped.get("sign_private"), "sign"), None),
    )


# Messages.


def pad(data: bytes) -> bytes:
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % PAD_BLOCK)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise EnvelopeError("The message's padding is broken.")
    return stripped[:-1]


def associated_data(envelope: dict, to: str | None = None) -> bytes:
    bound = {
        "conversation": envelope["conversation"],
        "id": envelope["id"],
        "sender": envelope["sender"],
        "v": 1,
    }
    if to is not None:
        bound["to"] = to
    return canonical(bound)


def signed_part(envelope: dict) -> bytes:
    return canonical({k: v for k, v in envelope.items() if k != "sig"})


def _content_kek(shared: bytes, epk: bytes, recipient_public: bytes) -> bytes:
    return _hkdf(shared, "mend/v1/content-key", salt=epk + recipient_public)


@dataclass
class Recipient:
    key_id: str
    enc_public: bytes


def seal(
    *,
    sender: KeyPair,
    conversation: str,
    content: dict,
    recipients: list[Recipient],
    meta: dict | None = None,
    message_id: str | None = None,
    randomness: dict | None = None,
) -> dict:
    """Encrypts `content` to the recipients and signs the whole. `randomness` fixes the content key,
    nonces and ephemeral keys, for the shared test vectors only."""
    fixed = randomness or {}
    envelope = {
        "v": VERSION,
        "conversation": conversation,
        "id": message_id or str(uuid.uuid4()),
        "sender": sender.key_id,
        "meta": meta or {"kind": "message"},
    }
    content_key = fixed.get("content_key") or AESGCM.generate_key(bit_length=256)
    nonce = fixed.get("nonce") or os.urandom(12)
    body = AESGCM(content_key).encrypt(nonce, pad(canonical(content)), associated_data(envelope))
    keys = []
    for index, recipient in enumerate(sorted(recipients, key=lambda r: r.key_id)):
        ephemeral = (
            X25519PrivateKey.from_private_bytes(fixed["ephemeral"][index])
            if "ephemeral" in fixed
            else X25519PrivateKey.generate()
        )
        epk = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.enc_public))
        wrap_nonce = fixed["wrap_nonces"][index] if "wrap_nonces" in fixed else os.urandom(12)
        wrapped = AESGCM(_content_kek(shared, epk, recipient.enc_public)).encrypt(
            wrap_nonce, content_key, associated_data(envelope, recipient.key_id)
        )
        keys.append(
            {"to": recipient.key_id, "epk": b64u(epk), "nonce": b64u(wrap_nonce), "ck": b64u(wrapped)}
        )
    envelope.update({"nonce": b64u(nonce), "body": b64u(body), "keys": keys})
    envelope["sig"] = b64u(sender.sign.sign(signed_part(envelope)))
    return envelope


def verify(envelope: dict, sign_public: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(sign_public).verify(
            unb64u(envelope["sig"], length=64, what="signature"), signed_part(envelope)
        )
    except InvalidSignature:
        raise EnvelopeError("The signature does not match this message and its sender's key.") from None


def open_envelope(envelope: dict, keys: KeyPair) -> dict:
    """Decrypts the content for one recipient (the signature is checked separately, with `verify`)."""
    mine = next((k for k in envelope.get("keys", []) if k.get("to") == keys.key_id), None)
    if mine is None:
        raise EnvelopeError("This message was not encrypted to these keys.")
    epk = unb64u(mine["epk"], length=32)
    try:
        shared = keys.enc.exchange(X25519PublicKey.from_public_bytes(epk))
        content_key = AESGCM(_content_kek(shared, epk, keys.enc_public)).decrypt(
            unb64u(mine["nonce"], length=12), unb64u(mine["ck"]), associated_data(envelope, keys.key_id)
        )
        padded = AESGCM(content_key).decrypt(
            unb64u(envelope["nonce"], length=12), unb64u(envelope["body"]), associated_data(envelope)
        )
    except (InvalidTag, ValueError):
        raise EnvelopeError(
            "The message does not decrypt: it was altered or is not for these keys."
        ) from None
    return json.loads(unpad(padded))


def encrypt_file(
    data: bytes, *, conversation: str, file_id: str, key: bytes | None = None, nonce: bytes | None = None
):
    """An attachment: (ciphertext to upload, the entry for the message's content)."""
    if len(data) > MAX_FILE_BYTES:
        raise EnvelopeError("Files can be at most 10 MiB.")
    key = key or AESGCM.generate_key(bit_length=256)
    nonce = nonce or os.urandom(12)
    aad = canonical({"conversation": conversation, "file": file_id, "v": VERSION})
    return AESGCM(key).encrypt(nonce, data, aad), {"id": file_id, "key": b64u(key), "nonce": b64u(nonce)}


def decrypt_file(ciphertext: bytes, *, conversation: str, entry: dict) -> bytes:
    aad = canonical({"conversation": conversation, "file": entry["id"], "v": VERSION})
    try:
        return AESGCM(unb64u(entry["key"], length=32)).decrypt(
            unb64u(entry["nonce"], length=12), ciphertext, aad
        )
    except InvalidTag:
        raise EnvelopeError("The file does not decrypt: it was altered or the key is wrong.") from None


# The form the server checks before anything else.

_TOP = {"v", "conversation", "id", "sender", "meta", "nonce", "body", "keys", "sig"}


def check_form(envelope) -> dict:
    """Checks shape and sizes without any key; returns the envelope or raises EnvelopeError."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("The envelope must be a JSON object.")
    missing = sorted(_TOP - set(envelope))
    if missing:
        raise EnvelopeError(f"The envelope is missing: {', '.join(missing)}.")
    extra = sorted(set(envelope) - _TOP)
    if extra:
        raise EnvelopeError(f"The envelope has fields that version 1 does not know: {', '.join(extra)}.")
    if type(envelope["v"]) is not int or envelope["v"] != VERSION:
        raise EnvelopeError("Only envelope version 1 is accepted.")
    if not isinstance(envelope["conversation"], str) or not 1 <= len(envelope["conversation"]) <= 40:
        raise EnvelopeError("The conversation must be its id, as text.")
    if not isinstance(envelope["id"], str) or not _UUID.match(envelope["id"]):
        raise EnvelopeError("The message id must be a random UUID (version 4) in lower case.")
    unb64u(envelope["sender"], length=16, what="sender key id")
    unb64u(envelope["nonce"], length=12, what="nonce")
    unb64u(envelope["sig"], length=64, what="signature")
    if not isinstance(envelope["body"], str) or len(envelope["body"]) > (4 * (MAX_BODY_BYTES + 16) + 2) // 3:
        raise EnvelopeError("The message is too long. Split it into shorter messages.")
    body = unb64u(envelope["body"], what="body")
    if len(body) < PAD_BLOCK + 16 or (len(body) - 16) % PAD_BLOCK:
        raise EnvelopeError("The message body is not padded as version 1 requires.")
    _check_meta(envelope["meta"])
    keys = envelope["keys"]
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_RECIPIENTS:
        raise EnvelopeError(f"A message needs between 1 and {MAX_RECIPIENTS} recipients.")
    seen = set()
    for entry in keys:
        if not isinstance(entry, dict) or set(entry) != {"to", "epk", "nonce", "ck"}:
            raise EnvelopeError("Each recipient entry needs exactly: to, epk, nonce, ck.")
        unb64u(entry["to"], length=16, what="recipient key id")
        unb64u(entry["epk"], length=32, what="ephemeral key")
        unb64u(entry["nonce"], length=12, what="recipient nonce")
        unb64u(entry["ck"], length=48, what="wrapped content key")
        if entry["to"] in seen:
            raise EnvelopeError("A recipient is listed twice.")
        seen.add(entry["to"])
    return envelope


def _check_meta(meta) -> None:
    if not isinstance(meta, dict) or meta.get("kind") not in MESSAGE_KINDS:
        raise EnvelopeError(f"meta.kind must be one of: {', '.join(MESSAGE_KINDS)}.")
    allowed = {"kind", "ref", "approved", "files"}
    extra = sorted(set(meta) - allowed)
    if extra:
        raise EnvelopeError(f"meta has fields that version 1 does not know: {', '.join(extra)}.")
    if "ref" in meta and (not isinstance(meta["ref"], str) or not _UUID.match(meta["ref"])):
        raise EnvelopeError("meta.ref must be the id of the message this one relays or returns.")
    if meta["kind"] in ("relayed", "returned") and "ref" not in meta:
        raise EnvelopeError("A relayed or returned message must name the message it refers to in meta.ref.")
    if "approved" in meta and not isinstance(meta["approved"], bool):
        raise EnvelopeError("meta.approved must be true or false.")
    files = meta.get("files", [])
    if (
        not isinstance(files, list)
        or len(files) > MAX_FILES
        or not all(isinstance(f, str) and _UUID.match(f) for f in files)
    ):
        raise EnvelopeError(f"meta.files must list at most {MAX_FILES} attachment ids (UUIDs).")
