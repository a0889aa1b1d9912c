"""Envelope v2 (and v1, which still opens) and the sign-in key derivation, with `cryptography`: the same
format as the browser's `static/mend/e2e.js`, for the command-line client, the demo and the tests. See
docs/crypto.md."""

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

VERSION = 1  # of key files, wrapped keys and attachments
ENVELOPE_VERSION = 2  # what `seal` makes and the server accepts; version 1 messages still open
ENVELOPE_VERSIONS = (1, 2)
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


def sign_in_salt(identifier: str, install_id: str | None = None) -> bytes:
    """Version 2 mixes in the install's public id (settings.MEND_INSTALL_ID), so that guesses computed for
    one Mend are no use against another. `install_id=None` gives version 1, the salt every install shared
    before: only to convert an older account at its next sign-in."""
    identifier = identifier.strip().lower()
    if install_id is None:
        return hashlib.sha256(("mend/v1/sign-in|" + identifier).encode()).digest()
    if not install_id:
        raise EnvelopeError("The install id is empty.")
    return hashlib.sha256(f"mend/v2/sign-in|{install_id}|{identifier}".encode()).digest()


def derive_sign_in(
    identifier: str, secret: str, iterations: int = PBKDF2_ITERATIONS, *, install_id: str | None = None
) -> tuple[str, bytes]:
    """(authentication key as sent to the server, wrapping key that stays with the person), with the salt
    of `sign_in_salt(identifier, install_id)`."""
    if iterations < PBKDF2_ITERATIONS:
        raise EnvelopeError(f"Refusing PBKDF2 with fewer than {PBKDF2_ITERATIONS} iterations.")
    master = PBKDF2HMAC(
        algorithm=hashes.SHA256(), length=32, salt=sign_in_salt(identifier, install_id), iterations=iterations
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


SAFETY_CODE_GROUPS = 8  # per person; each group is 5 bytes mod 100000, so about 16.6 bits: 132.9 in all


def safety_code_of(enc_public: bytes, sign_public: bytes) -> str:
    """One person's part of every safety code they share: eight groups of five digits (about 133 bits)
    from SHA-512 of their keys' fingerprint. Forging it means finding other keys with the same part."""
    digest = hashlib.sha512(b"mend/v2/safety-code" + fingerprint(enc_public, sign_public)).digest()
    groups = [int.from_bytes(digest[5 * i : 5 * i + 5], "big") % 100_000 for i in range(SAFETY_CODE_GROUPS)]
    return " ".join(f"{group:05d}" for group in groups)


def safety_code_between(first: tuple[bytes, bytes], second: tuple[bytes, bytes]) -> str:
    """The code two people compare, as in Signal's safety numbers: both people's parts (each made from
    their own keys only), the smaller first, so that both screens show the same 16 groups. Each part
    must be matched on its own, so that a server offering other keys needs a second preimage of 133 bits,
    not a collision of one hash of both keys."""
    return " ".join(sorted((safety_code_of(*first), safety_code_of(*second))))


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


def _envelope_version(envelope: dict) -> int:
    version = envelope.get("v") if isinstance(envelope, dict) else None
    if type(version) is not int or version not in ENVELOPE_VERSIONS:
        raise EnvelopeError("This envelope's version is not one this client knows.")
    return version


def associated_data(envelope: dict, to: str | None = None) -> bytes:
    bound = {
        "conversation": envelope["conversation"],
        "id": envelope["id"],
        "sender": envelope["sender"],
        "v": _envelope_version(envelope),
    }
    if to is not None:
        bound["to"] = to
    return canonical(bound)


def signed_part(envelope: dict) -> bytes:
    return canonical({k: v for k, v in envelope.items() if k != "sig"})


def _content_kek(shared: bytes, epk: bytes, recipient_public: bytes, version: int = 1) -> bytes:
    return _hkdf(shared, f"mend/v{version}/content-key", salt=epk + recipient_public)


# Version 2: each recipient's entry is a function of the content key and the recipient, so that anyone who
# opened the content key can recompute every entry and see that each recipient got the same key. The
# wrapping key is then used once only (a fresh content key per message, and the ephemeral key differs per
# recipient and message), so a fixed nonce is safe.
V2_WRAP_NONCE = bytes(12)


def _v2_ephemeral(content_key: bytes, bound: bytes) -> X25519PrivateKey:
    scalar = bytearray(_hkdf(content_key, "mend/v2/ephemeral", salt=bound))
    scalar[0] &= 248  # clamped as RFC 7748 does, so that every implementation uses the same scalar
    scalar[31] &= 127
    scalar[31] |= 64
    return X25519PrivateKey.from_private_bytes(bytes(scalar))


def _v2_entry(envelope: dict, content_key: bytes, key_id: str, enc_public: bytes) -> dict:
    bound = associated_data(envelope, key_id)
    ephemeral = _v2_ephemeral(content_key, bound)
    epk = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(enc_public))
    wrapped = AESGCM(_content_kek(shared, epk, enc_public, 2)).encrypt(V2_WRAP_NONCE, content_key, bound)
    return {"to": key_id, "epk": b64u(epk), "ck": b64u(wrapped)}


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
    version: int = ENVELOPE_VERSION,
) -> dict:
    """Encrypts `content` to the recipients and signs the whole. `randomness` fixes the content key and
    nonce (and in version 1 the ephemeral keys and wrap nonces), and `version=1` makes the old format, for
    the shared test vectors and the tests that old messages still open only."""
    fixed = randomness or {}
    envelope = {
        "v": version,
        "conversation": conversation,
        "id": message_id or str(uuid.uuid4()),
        "sender": sender.key_id,
        "meta": meta or {"kind": "message"},
    }
    _envelope_version(envelope)
    content_key = fixed.get("content_key") or AESGCM.generate_key(bit_length=256)
    nonce = fixed.get("nonce") or os.urandom(12)
    body = AESGCM(content_key).encrypt(nonce, pad(canonical(content)), associated_data(envelope))
    keys = []
    for index, recipient in enumerate(sorted(recipients, key=lambda r: r.key_id)):
        if version == 2:
            keys.append(_v2_entry(envelope, content_key, recipient.key_id, recipient.enc_public))
            continue
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


class NotSealedForEveryone(EnvelopeError):
    """A version 2 message whose recipient entries do not all recompute: not everyone got the same content
    key, so it is not shown to anyone."""


class NotReadableForMe(EnvelopeError):
    """This recipient's own entry does not open: the message was not sealed so that they can read it."""


def recipient_keys(listed) -> dict[str, bytes | None]:
    """The recipients' public keys as the server lists them beside a message ({key_id: {"enc_public",
    "sign_public"}}, or null where a recipient's keys are no longer kept), each checked against its key id:
    the server's pairing is never trusted. Returns {key_id: enc_public, or None when unknown}."""
    if not isinstance(listed, dict):
        raise EnvelopeError("The recipients' keys are missing, so this message cannot be checked.")
    result: dict[str, bytes | None] = {}
    for key_id, keys in listed.items():
        if keys is None:
            result[key_id] = None
            continue
        enc_public = unb64u((keys or {}).get("enc_public"), length=32, what="recipient's key")
        sign_public = unb64u((keys or {}).get("sign_public"), length=32, what="recipient's key")
        if key_id_of(enc_public, sign_public) != key_id:
            raise EnvelopeError("A recipient's keys do not match their key id, so this message is not shown.")
        result[key_id] = enc_public
    return result


def check_entries(envelope: dict, content_key: bytes, recipients: dict[str, bytes | None]) -> list[str]:
    """Recomputes every entry of a version 2 envelope from its content key and the recipients' keys
    (`recipient_keys`); raises NotSealedForEveryone if any differs or is not listed at all. Returns the key
    ids listed as null (a person whose account was closed), which could not be checked."""
    if _envelope_version(envelope) != 2:
        return [entry.get("to") for entry in envelope.get("keys", [])]
    unknown = []
    for entry in envelope["keys"]:
        if entry.get("to") not in recipients:  # not listed at all: the server hides whose entry it is
            raise NotSealedForEveryone(
                "The recipients' keys are not all listed, so this message cannot be checked and is not shown."
            )
        enc_public = recipients.get(entry.get("to"))
        if enc_public is None:
            unknown.append(entry.get("to"))
            continue
        try:
            same = _v2_entry(envelope, content_key, entry["to"], enc_public) == entry
        except ValueError:  # a public key of small order: nothing could have been sealed to it
            same = False
        if not same:
            raise NotSealedForEveryone(
                "This message was not sealed correctly for everyone in this conversation, so it is not shown."
            )
    return unknown


def _open_content_key(envelope: dict, keys: KeyPair) -> bytes:
    version = _envelope_version(envelope)
    mine = next((k for k in envelope.get("keys", []) if k.get("to") == keys.key_id), None)
    if mine is None:
        raise EnvelopeError("This message was not encrypted to these keys.")
    epk = unb64u(mine["epk"], length=32)
    nonce = V2_WRAP_NONCE if version == 2 else unb64u(mine["nonce"], length=12)
    try:
        shared = keys.enc.exchange(X25519PublicKey.from_public_bytes(epk))
        return AESGCM(_content_kek(shared, epk, keys.enc_public, version)).decrypt(
            nonce, unb64u(mine["ck"]), associated_data(envelope, keys.key_id)
        )
    except (InvalidTag, ValueError):
        raise NotReadableForMe(
            "This message was not sealed so that you can read it: your copy of its key does not open."
        ) from None


def open_checked(
    envelope: dict, keys: KeyPair, recipients: dict[str, bytes | None] | None = None
) -> tuple[dict, list[str]]:
    """Decrypts the content for one recipient and, given the recipients' keys (`recipient_keys`), checks
    every entry of a version 2 envelope. (content, key ids that could not be checked: all of them for
    version 1). The signature is checked separately, with `verify`."""
    content_key = _open_content_key(envelope, keys)
    try:
        padded = AESGCM(content_key).decrypt(
            unb64u(envelope["nonce"], length=12), unb64u(envelope["body"]), associated_data(envelope)
        )
    except (InvalidTag, ValueError):
        raise EnvelopeError(
            "The message does not decrypt: it was altered or is not for these keys."
        ) from None
    if recipients is None:
        unchecked = [entry.get("to") for entry in envelope.get("keys", [])]
    else:
        unchecked = check_entries(envelope, content_key, recipients)
    return json.loads(unpad(padded)), unchecked


def open_envelope(envelope: dict, keys: KeyPair, recipients: dict[str, bytes | None] | None = None) -> dict:
    """Decrypts the content for one recipient; with the recipients' keys (`recipient_keys`), refuses a
    version 2 message whose entries do not all check. The signature is checked separately, with `verify`."""
    return open_checked(envelope, keys, recipients)[0]


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


_ENTRY_FIELDS = {1: ("to", "epk", "nonce", "ck"), 2: ("to", "epk", "ck")}


def check_form(envelope, *, versions: tuple[int, ...] = (ENVELOPE_VERSION,)) -> dict:
    """Checks shape and sizes without any key; returns the envelope or raises EnvelopeError. New messages
    must be version 2, whose entries every recipient can check: a sender cannot fall back to version 1 to
    seal junk for someone unnoticed. `versions=(1, 2)` checks the form of stored messages."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("The envelope must be a JSON object.")
    missing = sorted(_TOP - set(envelope))
    if missing:
        raise EnvelopeError(f"The envelope is missing: {', '.join(missing)}.")
    extra = sorted(set(envelope) - _TOP)
    if extra:
        raise EnvelopeError(f"The envelope has fields that its version does not know: {', '.join(extra)}.")
    if type(envelope["v"]) is not int or envelope["v"] not in versions:
        accepted = " or ".join(map(str, versions))
        raise EnvelopeError(f"Only envelope version {accepted} is accepted. Reload the page and send again.")
    version = envelope["v"]
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
        raise EnvelopeError("The message body is not padded as the envelope format requires.")
    _check_meta(envelope["meta"])
    keys = envelope["keys"]
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_RECIPIENTS:
        raise EnvelopeError(f"A message needs between 1 and {MAX_RECIPIENTS} recipients.")
    seen = set()
    fields = _ENTRY_FIELDS[version]
    for entry in keys:
        if not isinstance(entry, dict) or set(entry) != set(fields):
            raise EnvelopeError(f"Each recipient entry needs exactly: {', '.join(fields)}.")
        unb64u(entry["to"], length=16, what="recipient key id")
        unb64u(entry["epk"], length=32, what="ephemeral key")
        if "nonce" in fields:
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
        raise EnvelopeError(f"meta has fields that the envelope format does not know: {', '.join(extra)}.")
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
