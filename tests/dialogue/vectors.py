"""Builds the shared test vectors from fixed seeds; vectors.json is its output, and the browser must
reproduce every envelope in it byte for byte (tests/e2e/test_vectors_browser.py). `envelopes` are version
1 (they must still open), `envelopes_v2` what is sealed now."""

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from mend.core import envelope as e

PATH = Path(__file__).with_name("vectors.json")


def _seed(label: str, n: int = 32) -> bytes:
    return hashlib.sha256(label.encode()).digest()[:n]


def _keys(name: str) -> e.KeyPair:
    return e.KeyPair(
        X25519PrivateKey.from_private_bytes(_seed(name + "/enc")),
        Ed25519PrivateKey.from_private_bytes(_seed(name + "/sign")),
    )


def _person(name: str) -> dict:
    keys = _keys(name)
    return {
        **keys.to_file(),
        **keys.public(),
        "key_id": keys.key_id,
        "safety_code": e.safety_code_of(keys.enc_public, keys.sign_public),
    }


def _safety_codes() -> list[dict]:
    """The code each pair of vector people compares (docs/crypto.md, "A person's keys")."""
    names = ("ash", "birch", "cedar")
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    codes = []
    for a, b in pairs:
        first, second = _keys(a), _keys(b)
        code = e.safety_code_between(
            (first.enc_public, first.sign_public), (second.enc_public, second.sign_public)
        )
        codes.append({"between": [a, b], "code": code})
    return codes


def _envelope_v2(index: int, sender: str, to: list[str], content: dict, meta: dict) -> dict:
    """Envelope v2: only the content key and the body's nonce are random; every entry follows from them."""
    randomness = {"content_key": _seed(f"v2/ck{index}"), "nonce": _seed(f"v2/n{index}", 12)}
    envelope = e.seal(
        sender=_keys(sender),
        conversation="D-TEST-VEC2",
        content=content,
        recipients=[e.Recipient(_keys(name).key_id, _keys(name).enc_public) for name in to],
        meta=meta,
        message_id=f"1c4d6e8f-2a3b-4c5d-8e6f-7a8b9c0d1e{index:02d}",
        randomness=randomness,
        version=2,
    )
    return {
        "sender": sender,
        "to": to,
        "content": content,
        "meta": meta,
        "randomness": {key: e.b64u(value) for key, value in randomness.items()},
        "envelope": envelope,
    }


def _envelope_v2_not_for_everyone() -> dict:
    """A version 2 message whose sender put junk in cedar's entry and signed the whole: birch opens it, but
    recomputing cedar's entry shows the difference, so birch must not show it; cedar cannot open it."""
    text = {"text": "Only some of you can read this."}
    case = _envelope_v2(9, "ash", ["birch", "cedar"], text, {"kind": "message"})
    envelope = {k: v for k, v in case["envelope"].items() if k != "sig"}
    junk = e.b64u(_seed("v2/junk") + _seed("v2/junk/tail", 16))
    cedar = _keys("cedar").key_id
    envelope["keys"] = [
        {**entry, "ck": junk} if entry["to"] == cedar else entry for entry in envelope["keys"]
    ]
    envelope["sig"] = e.b64u(_keys("ash").sign.sign(e.signed_part(envelope)))
    return {**case, "junk_for": "cedar", "envelope": envelope}


def _sign_in_v2() -> list[dict]:
    """Sign-in keys with version 2 of the salt: the install's public id mixed in (docs/crypto.md, "Sign-in").
    The same identifier and secret give other keys on another install, and other keys than version 1."""
    cases = [
        ("Willow-7QX2@example.org ", "correct horse battery staple", "k3Jq9vXn2mT8pLw4rZ6yBa"),
        ("Willow-7QX2@example.org ", "correct horse battery staple", "another-install-0001"),
        ("fern-k3m9ab", "amble crisp dolphin rustic velvet yonder", "k3Jq9vXn2mT8pLw4rZ6yBa"),
    ]
    found = []
    for identifier, secret, install_id in cases:
        auth, wrap = e.derive_sign_in(identifier, secret, install_id=install_id)
        found.append(
            {
                "identifier": identifier,
                "secret": secret,
                "install_id": install_id,
                "salt": e.b64u(e.sign_in_salt(identifier, install_id)),
                "auth_key": auth,
                "wrap_key": e.b64u(wrap),
            }
        )
    return found


def build() -> dict:
    people = {name: _person(name) for name in ("ash", "birch", "cedar")}
    auth, wrap = e.derive_sign_in("Willow-7QX2@example.org ", "correct horse battery staple")
    phrase_auth, phrase_wrap = e.derive_sign_in("fern-k3m9ab", "amble crisp dolphin rustic velvet yonder")
    recovery_code = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567"
    recovery_auth, recovery_wrap = e.derive_recovery(recovery_code)
    sign_in = [
        {
            "identifier": "Willow-7QX2@example.org ",
            "secret": "correct horse battery staple",
            "auth_key": auth,
            "wrap_key": e.b64u(wrap),
        },
        {
            "identifier": "fern-k3m9ab",
            "secret": "amble crisp dolphin rustic velvet yonder",
            "auth_key": phrase_auth,
            "wrap_key": e.b64u(phrase_wrap),
        },
    ]
    envelopes = []
    cases = [
        ("ash", ["birch", "cedar"], {"text": "Hello from the vectors. Ünïcödé ✓"}, {"kind": "message"}),
        ("birch", ["ash"], {"text": "x" * 300, "files": []}, {"kind": "for_relay", "approved": True}),
        (
            "cedar",
            ["ash", "birch", "cedar"],
            {"text": ""},
            {"kind": "relayed", "ref": "2f1c6a4e-9b7d-4c3e-8a1f-0d2e3c4b5a69"},
        ),
    ]
    for index, (sender, to, content, meta) in enumerate(cases):
        randomness = {
            "content_key": _seed(f"ck{index}"),
            "nonce": _seed(f"n{index}", 12),
            "ephemeral": [_seed(f"e{index}/{i}") for i in range(len(to))],
            "wrap_nonces": [_seed(f"w{index}/{i}", 12) for i in range(len(to))],
        }
        recipients = [e.Recipient(_keys(name).key_id, _keys(name).enc_public) for name in to]
        envelope = e.seal(
            sender=_keys(sender),
            conversation="D-TEST-VEC1",
            content=content,
            recipients=recipients,
            meta=meta,
            message_id=f"0b3c5d7e-1f2a-4b3c-9d4e-5f6a7b8c9d{index:02d}",
            randomness=randomness,
            version=1,  # the first format: kept so that messages stored before version 2 still open
        )
        envelopes.append(
            {
                "sender": sender,
                "to": to,
                "content": content,
                "meta": meta,
                "randomness": {
                    "content_key": e.b64u(randomness["content_key"]),
                    "nonce": e.b64u(randomness["nonce"]),
                    # in the order of the recipients sorted by key_id
                    "ephemeral": [e.b64u(x) for x in randomness["ephemeral"]],
                    "wrap_nonces": [e.b64u(x) for x in randomness["wrap_nonces"]],
                },
                "envelope": envelope,
            }
        )
    envelopes_v2 = [_envelope_v2(index, *case) for index, case in enumerate(cases)]
    wrapped = e.wrap_keys(wrap, _keys("ash"))
    file_ct, file_entry = e.encrypt_file(
        b"%PDF-1.4 vector",
        conversation="D-TEST-VEC1",
        file_id="6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        key=_seed("file"),
        nonce=_seed("filenonce", 12),
    )
    return {
        "people": people,
        "safety_codes": _safety_codes(),
        "sign_in": sign_in,
        "sign_in_v2": _sign_in_v2(),
        "recovery": {"code": recovery_code, "auth": recovery_auth, "wrap_key": e.b64u(recovery_wrap)},
        "wrapped_keys_of_ash_under_first_sign_in": wrapped,
        "envelopes": envelopes,
        "envelopes_v2": envelopes_v2,
        "envelope_v2_not_for_everyone": _envelope_v2_not_for_everyone(),
        "file": {
            "plaintext": e.b64u(b"%PDF-1.4 vector"),
            "ciphertext": e.b64u(file_ct),
            "entry": file_entry,
            "conversation": "D-TEST-VEC1",
        },
    }


if __name__ == "__main__":
    PATH.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
