"""What a party signs, and how a signature is checked (docs/agreements.md).

A version's document is plain data that names nobody: every person in it is an opaque reference, made
for that version alone, with their place (role):

    {"v": "mend-agreement/2", "case": "<reference>", "version": <n>, "terms": "...",
     "parties": [{"ref": "<opaque>", "role": "<role>"}],
     "items": [{"uid", "kind", "description", "details", "owner": "<ref>", "owed_to": "<ref>" | null,
                "due_on", "verification"}]}

Every party signs the same bytes, so the document cannot carry what one of them may see and another may
not (who else was harmed): each page maps the references back to names only where the viewer may see that
person (mend.agreements.names). The version keeps the references (`Version.refs`, participant id -> ref).
Versions frozen before (format 1) named parties by id and pseudonym, and are still checked as they were.

It is frozen, as its RFC 8785 canonical JSON, when the version opens for signing. A party signs, with
the Ed25519 key of their key bundle (in their browser), the canonical JSON of

    {"purpose": "mend-agreement-signature/1", "agreement": <the document>, "name": "<typed name>"}

so the signature covers every word of the version and the name they typed. The server checks each
signature against the key it names, and that the document still matches the version's items."""

import hashlib
import json
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mend.core.envelope import EnvelopeError, canonical, unb64u

FORMAT = "mend-agreement/2"
FORMAT_1 = "mend-agreement/1"
SIGNATURE_PURPOSE = "mend-agreement-signature/1"


def new_ref() -> str:
    return secrets.token_hex(6)


def refs_for(version, people) -> dict[str, str]:
    """The version's references for these people: those frozen with it, and new ones for anyone else."""
    refs = {str(k): v for k, v in dict(version.refs or {}).items()}
    for place in people:
        if place is not None and str(place.pk) not in refs:
            refs[str(place.pk)] = new_ref()
    return refs


def item_entry(item, refs: dict[str, str] | None = None) -> dict:
    """An item as the document holds it. Without `refs`, as format 1 held it (owner by participant id)."""
    if refs is None:
        return {
            "uid": item.uid,
            "kind": item.kind,
            "description": str(item.description),
            "details": dict(item.details or {}),
            "owner": item.owner_id,
            "due_on": item.due_on.isoformat(),
            "verification": str(item.verification),
        }
    return {
        "uid": item.uid,
        "kind": item.kind,
        "description": str(item.description),
        "details": dict(item.details or {}),
        "owner": refs[str(item.owner_id)],
        "owed_to": refs[str(item.owed_to_id)] if item.owed_to_id else None,
        "due_on": item.due_on.isoformat(),
        "verification": str(item.verification),
    }


def document_of(version, items, parties, refs: dict[str, str]) -> dict:
    """The version's words as data. `parties` are the places that sign: harmed and responsible; `refs`
    (refs_for) names each of them and every owner and person owed."""
    return {
        "v": FORMAT,
        "case": version.case.reference,
        "version": version.number,
        "terms": str(version.terms),
        "parties": [{"ref": refs[str(p.pk)], "role": p.role} for p in parties],
        "items": [item_entry(item, refs) for item in items],
    }


def document_v1_of(version, items, parties) -> dict:
    """Format 1, for checking versions frozen in it: parties by id and pseudonym."""
    program = version.case.program
    return {
        "v": FORMAT_1,
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


def frozen(version) -> dict:
    return json.loads(str(version.document)) if version.document_sha256 else {}


def ids_by_ref(version) -> dict[str, int]:
    """The frozen references back to participant ids (staff and the server only)."""
    return {ref: int(pk) for pk, ref in dict(version.refs or {}).items()}


def parties_of(version) -> list[dict]:
    """The parties a frozen version names, exactly those who sign it: {"id", "role"} each (and "ref" in
    format 2)."""
    document = frozen(version)
    if not document:
        return []
    if document.get("v") == FORMAT_1:
        return [{"id": p["id"], "role": p["role"]} for p in document["parties"]]
    ids = ids_by_ref(version)
    return [{"id": ids.get(p["ref"]), "ref": p["ref"], "role": p["role"]} for p in document["parties"]]


def party_ids(version) -> set[int]:
    return {p["id"] for p in parties_of(version) if p["id"] is not None}
