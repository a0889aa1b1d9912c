"""What a party signs, and how a signature is checked (docs/agreements.md).

A version's document is plain data with pseudonyms only:

    {"v": "mend-agreement/1", "case": "<reference>", "version": <n>, "terms": "...",
     "parties": [{"id": <participant id>, "name": "<pseudonym>", "role": "<role>"}],
     "items": [{"uid", "kind", "description", "details", "owner", "due_on", "verification"}]}

It is frozen, as its RFC 8785 canonical JSON, when the version opens for signing. A party signs, with
the Ed25519 key of their key bundle (in their browser), the canonical JSON of

    {"purpose": "mend-agreement-signature/1", "agreement": <the document>, "name": "<typed name>"}

so the signature covers every word of the version and the name they typed. The server checks each
signature against the key it names, and that the document still matches the version's items."""

import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mend.core.envelope import EnvelopeError, canonical, unb64u

FORMAT = "mend-agreement/1"
SIGNATURE_PURPOSE = "mend-agreement-signature/1"


def item_entry(item) -> dict:
    return {
        "uid": item.uid,
        "kind": item.kind,
        "description": str(item.description),
        "details": dict(item.details or {}),
        "owner": item.owner_id,
        "due_on": item.due_on.isoformat(),
        "verification": str(item.verification),
    }


def document_of(version, items, parties) -> dict:
    """The version's words as data. `parties` are the places that sign: harmed and responsible."""
    program = version.case.program
    return {
        "v": FORMAT,
        "case": version.case.reference,
        "version": version.number,
        "terms": str(version.terms),
        "parties": [
            {"id": p.pk, "name": p.pseudonym or program.word_for(p.role), "role": p.role} for p in parties
        ],
        "items": [item_entry(item) for item in items],
    }


def canonical_text(document: dict) -> str:
    return canonical(document).decode()


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def signed_bytes(document_text: str, typed_name: str) -> bytes:
    return canonical(
        {"purpose": SIGNATURE_PURPOSE, "agreement": json.loads(document_text), "name": typed_name}
    )


def signature_valid(*, sign_public: str, signature: str, document_text: str, typed_name: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(unb64u(sign_public, length=32, what="signing key"))
        key.verify(unb64u(signature, length=64, what="signature"), signed_bytes(document_text, typed_name))
    except (InvalidSignature, EnvelopeError, ValueError):
        return False
    return True


def parties_of(version) -> list[dict]:
    """The parties a frozen version names: exactly those who sign it."""
    return json.loads(str(version.document))["parties"] if version.document_sha256 else []
