"""The dialogue in the JSON API, for `mend chat` and other staff clients: the same access functions and
service as the pages and the websocket. Bodies are envelopes; the server never sees what they hold."""

from datetime import datetime

from django.http import Http404
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, StrictInt, StrictStr

from mend.accounts.keys import bundle_for_owner, current_bundle
from mend.cases.access import access_case
from mend.cases.schemas import ErrorOut
from mend.core.envelope import MESSAGE_KINDS
from mend.core.errors import DomainError
from mend.dialogue import rules, selectors, services
from mend.dialogue.access import access_conversation, access_conversation_and_places

router = Router(tags=["dialogue"])
KINDS = MESSAGE_KINDS  # one list of kinds: envelope v2's


class KeysOut(Schema):
    key_id: str
    enc_public: str
    sign_public: str
    safety_code: str
    wrapped: dict
    # The sign-in salt the wrapping key comes from: 2 with `install_id`, 1 the salt all installs shared.
    wrapped_salt: int
    install_id: str


class ConversationOut(Schema):
    id: str
    kind: str
    title: str
    # For a direct conversation: the other people in it, as you may know them; empty for other kinds.
    with_: str = Field("", alias="with")


class MemberOut(Schema):
    user: int
    name: str
    role: str
    role_code: str
    facilitator: bool
    key_id: str | None
    enc_public: str | None
    sign_public: str | None
    safety_code: str | None


class MembersOut(Schema):
    members: list[MemberOut]
    kind: str
    can_write: bool
    why: str


class SenderOut(Schema):
    user: int
    name: str
    key_id: str
    enc_public: str | None
    sign_public: str | None


class RecipientKeysOut(Schema):
    enc_public: str
    sign_public: str


class MessageOut(Schema):
    seq: int
    id: str
    kind: str
    ref: str | None
    relay_state: str
    approved: bool
    at: datetime
    sender: SenderOut = Field(..., alias="from")
    # Every recipient's public keys by key id (null: no longer kept), to check each entry (envelope v2).
    recipient_keys: dict[str, RecipientKeysOut | None]
    envelope: dict


class EnvelopeIn(Schema):
    """Envelope v2 as docs/crypto.md describes it; the service checks everything else, and the signature."""

    model_config = ConfigDict(extra="forbid")

    v: StrictInt
    conversation: StrictStr
    id: StrictStr
    sender: StrictStr
    meta: dict
    nonce: StrictStr
    body: StrictStr
    keys: list[dict]
    sig: StrictStr


class AckOut(Schema):
    id: str
    seq: int
    duplicate: bool


def _errors(*codes: int) -> dict:
    return {code: ErrorOut for code in (401, 404, 422, *codes)}


@router.get("/me/keys", response={200: KeysOut, **_errors()})
def my_keys(request):
    """Your public keys and your private keys as your browser wrapped them (unwrap them with your
    passphrase, for example with `mend chat keyfile`)."""
    bundle = current_bundle(request.user)
    if bundle is None:
        raise Http404
    return bundle_for_owner(bundle)


@router.get(
    "/cases/{reference}/conversations", response={200: list[ConversationOut], **_errors()}, by_alias=True
)
def conversations(request, reference: str):
    """The conversations you have in a case."""
    case = access_case(request.user, reference)
    snap = rules.people_snapshot(case)  # who is where, read once for the whole answer
    return [
        {
            "id": c.public_id,
            "kind": c.kind,
            "title": selectors.conversation_title(c, request.user),
            "with": selectors.conversation_with(c, request.user, snap=snap),
        }
        for c in services.conversations_open_for(case=case, user=request.user, snap=snap)
    ]


@router.get("/conversations/{public_id}/members", response={200: MembersOut, **_errors(400)})
def members(request, public_id: str, kind: str = "message", ref: str = ""):
    """Whom a message of this kind must be encrypted to now, with their current keys, and whether you may
    write it now (for a relayed or returned message, give the id of the message it refers to as `ref`)."""
    if kind not in KINDS:
        raise DomainError(f"kind must be one of: {', '.join(KINDS)}.", field="kind")
    conversation, places = access_conversation_and_places(request.user, public_id)
    return {
        "members": selectors.members(conversation, places),
        **selectors.writing_state(conversation, request.user, kind, ref or None, places),
    }


@router.get(
    "/conversations/{public_id}/messages", response={200: list[MessageOut], **_errors(400)}, by_alias=True
)
def messages(request, public_id: str, after: int = 0):
    """Messages encrypted to you after sequence number `after`, oldest first, at most 200 at a time."""
    if not 0 <= after <= selectors.MAX_SEQ:
        raise DomainError("after must be the last sequence number you saw, 0 or more.", field="after")
    conversation, places = access_conversation_and_places(request.user, public_id)
    return selectors.backlog(conversation, request.user, after, places)


@router.post("/conversations/{public_id}/messages", response={200: AckOut, 201: AckOut, **_errors(400, 409)})
def send(request, public_id: str, payload: EnvelopeIn):
    """Sends one envelope v2 (docs/crypto.md). Sending the same envelope again is answered with its first
    sequence number; the same id with other content is refused."""
    conversation = access_conversation(request.user, public_id)
    envelope = payload.model_dump()
    message, created = services.message_post(actor=request.user, conversation=conversation, envelope=envelope)
    return Status(
        201 if created else 200, {"id": message.message_id, "seq": message.seq, "duplicate": not created}
    )
