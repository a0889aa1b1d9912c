"""Reads of the dialogue: the members of a conversation with their keys, and messages as sent to clients."""

import json

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils.translation import gettext as _

from mend.accounts.models import KeyBundle, Membership
from mend.cases.models import FACILITATING_ROLES, Participant, Role
from mend.dialogue import rules
from mend.dialogue.models import Conversation, Message, Recipient
from mend.readiness.snapshot import places_of

PAGE = 200
MAX_SEQ = 2**31 - 1  # the largest sequence number any database here stores


def _name(conversation: Conversation, place) -> str:
    if place.is_facilitating:
        return place.user.display_name
    if place.role == Role.INTERPRETER:
        # Never their pseudonym, nor whom they help: only that an interpreter is here (docs/dialogue.md).
        return conversation.case.program.word_for(place.role)
    return place.pseudonym or conversation.case.program.word_for(place.role)


def members(conversation: Conversation, places: tuple | None = None) -> list[dict]:
    """The people a new message here goes to, with their current keys: whom it is encrypted to (the readers
    on their path, mend.dialogue.rules.recipients; nobody else is named). `places`: the case's places, when
    the caller has read them already (mend.readiness.snapshot.places_of)."""
    places = rules.recipients(conversation, places)
    bundles = {
        b.user_id: b
        for b in KeyBundle.objects.filter(user__in=[p.user_id for p in places], replaced_at__isnull=True)
    }
    result = []
    for place in places:
        bundle = bundles.get(place.user_id)
        result.append(
            {
                "user": place.user_id,
                "name": _name(conversation, place),
                "role": conversation.case.program.word_for(place.role),
                # The place itself, whatever the program calls it: what clients pin a person's keys under.
                "role_code": place.role,
                "facilitator": place.is_facilitating,
                "key_id": bundle.key_id if bundle else None,
                "enc_public": bundle.enc_public if bundle else None,
                "sign_public": bundle.sign_public if bundle else None,
                "safety_code": bundle.safety_code if bundle else None,
            }
        )
    return result


def writing_state(
    conversation: Conversation, user, kind: str, ref_id: str | None = None, places: tuple | None = None
) -> dict:
    """Whether the user may write a message of this kind here now; relays and returns name the message
    they refer to (`ref_id`), since whether they may be sent depends on it."""
    places = places_of(conversation.case) if places is None else places  # read once for both checks
    place = rules.place_of(conversation, user, places)
    ref = None
    if ref_id:
        ref = Message.objects.select_related("conversation").filter(message_id=ref_id).first()
    if place is None:
        missing = [_("a place in this conversation")]
    else:
        missing = rules.writing_missing(conversation, place, kind, ref, places)
    return {
        "kind": kind,
        "can_write": not missing,
        "why": rules.refusal_for(place, missing) if missing else "",
    }


def frames_for(
    messages: list[Message], conversation: Conversation, places: tuple | None = None
) -> list[dict]:
    """Messages as clients get them: the envelope as stored, who sent it, the relay state, and every
    recipient's public keys (so that each reader can check every recipient's entry, envelope v2)."""
    names = _names(conversation, places)
    envelopes = [json.loads(m.envelope) for m in messages]
    wanted = {m.sender_key_id for m in messages}
    wanted.update(entry["to"] for envelope in envelopes for entry in envelope.get("keys", []))
    keys = {
        b.key_id: (b.enc_public, b.sign_public)
        for b in KeyBundle.objects.filter(key_id__in=wanted).only("key_id", "enc_public", "sign_public")
    }
    return [
        {
            **_frame_head(m, names, keys, [entry["to"] for entry in envelope.get("keys", [])]),
            "envelope": envelope,
        }
        for m, envelope in zip(messages, envelopes, strict=True)
    ]


def _names(conversation: Conversation, places: tuple | None = None) -> dict[int, str]:
    return {p.user_id: _name(conversation, p) for p in rules.readers(conversation, places)}


def _frame_head(
    message: Message, names: dict[int, str], keys: dict[str, tuple[str, str]], recipients: list[str]
) -> dict:
    enc_public, sign_public = keys.get(message.sender_key_id, (None, None))
    # Null for a recipient whose keys are no longer kept (an account closed after deletion).
    recipient_keys = {
        key_id: {"enc_public": keys[key_id][0], "sign_public": keys[key_id][1]} if key_id in keys else None
        for key_id in recipients
    }
    return {
        "type": "message",
        "seq": message.seq,
        "id": message.message_id,
        "kind": message.kind,
        "ref": message.ref.message_id if message.ref_id else None,
        "relay_state": message.relay_state,
        "approved": message.approved,
        "at": message.created_at.isoformat(),
        "from": {
            "user": message.sender_id,
            "name": names.get(message.sender_id, _("someone who has left the case")),
            "key_id": message.sender_key_id,
            "enc_public": enc_public,
            "sign_public": sign_public,
        },
        "recipient_keys": recipient_keys,
    }


def backlog(conversation: Conversation, user, after: int, places: tuple | None = None) -> list[dict]:
    """Messages for this user after sequence `after`, oldest first, a page at a time. `places`: the case's
    places, when the caller has read them already (mend.dialogue.access.access_conversation_and_places)."""
    messages = list(
        Message.objects.filter(conversation=conversation, seq__gt=after, recipients__user=user)
        .select_related("ref")
        .order_by("seq")[:PAGE]
    )
    return frames_for(messages, conversation, places)


def message_frame_text(
    message: Message, *, sender_bundle: KeyBundle, recipient_bundles, places: tuple | None = None
) -> str:
    """The frame of a message just stored, as the JSON text every receiving socket sends on: what
    `frames_for` gives, without reading anyone's keys again (`recipient_bundles`: the bundles it was
    sealed to, as the send checked them) or parsing and re-encoding the envelope (large when many people
    read the conversation)."""
    conversation = message.conversation
    keys = {b.key_id: (b.enc_public, b.sign_public) for b in (sender_bundle, *recipient_bundles)}
    names = {
        p.user_id: _name(conversation, p)
        for p in rules.readers(conversation, places)
        if p.user_id == message.sender_id
    }
    recipients = sorted(b.key_id for b in recipient_bundles)  # the envelope's order
    head = json.dumps(_frame_head(message, names, keys, recipients))
    # The stored envelope is canonical JSON already; the frame's last member holds it as it is.
    return f'{head[:-1]}, "envelope": {message.envelope}}}'


def receipts_of(conversation: Conversation, user) -> list[dict]:
    """Receipts on the user's own messages in this conversation, told only while the recipient lets others
    see them: someone who turns receipts off hides the earlier ones too, delivered and read."""
    rows = Recipient.objects.filter(
        message__conversation=conversation, message__sender=user, delivered_at__isnull=False
    ).exclude(user=user)
    if conversation.kind == Conversation.Kind.DIRECT:
        shown = {p.user_id for p in rules.readers(conversation) if p.is_facilitating or p.read_receipts}
    else:
        # The same people as rules.readers, asked in the rows' own query: the case's facilitators still in
        # its program with an active account, and (in a party's own conversation) that party.
        rows = rows.filter(Exists(_showing(conversation)))
        shown = None
    return [
        {
            "type": "receipt",
            "id": message_id,
            "user": user_id,
            "kind": "read" if read_at else "delivered",
        }
        for message_id, user_id, read_at in rows.values_list("message__message_id", "user_id", "read_at")
        if shown is None or user_id in shown
    ]


def _showing(conversation: Conversation):
    """The recipient's place among the conversation's readers, when it shows receipts (not direct)."""
    in_program = Membership.objects.filter(user=OuterRef("user_id"), program=conversation.case.program_id)
    facilitating = Q(role__in=FACILITATING_ROLES, user__is_active=True) & Q(Exists(in_program))
    own = Q(pk=conversation.party_id, read_receipts=True)
    if conversation.kind == Conversation.Kind.TEAM:
        own = Q(pk__in=[])
    return Participant.objects.filter(
        case_id=conversation.case_id, removed_at__isnull=True, user=OuterRef("user")
    ).filter(facilitating | own)


def pending_relays(case) -> list[Message]:
    """The relay queue of a case: messages for the other side waiting for a facilitator's review."""
    return list(
        Message.objects.filter(conversation__case=case, kind="for_relay", relay_state="pending")
        .select_related("conversation__party")
        .order_by("created_at")
    )


def conversation_with(conversation: Conversation, user, places: tuple | None = None, snap=None) -> str:
    """Whom a direct conversation is with, as this person may know them: the other people in it (for staff,
    both sides). Only people in the conversation are named, and they are in it by their own choice
    (mend.dialogue.rules.direct_people). Empty for other kinds."""
    if conversation.kind != Conversation.Kind.DIRECT:
        return ""
    readers = rules.readers(conversation, places, snap)
    me = next((p for p in readers if p.user_id == user.pk), None)
    if me is None:
        return ""
    names = [
        _name(conversation, p)
        for p in readers
        if not p.is_facilitating and p.role != Role.INTERPRETER and p.user_id != user.pk
    ]
    if not names:
        return _("nobody yet: no one has chosen to write directly")
    return ", ".join(names)


def conversation_title(conversation: Conversation, user) -> str:
    Kind = Conversation.Kind
    program = conversation.case.program
    if conversation.kind == Kind.TEAM:
        return _("Case team")
    if conversation.kind == Kind.DIRECT:
        return _("Direct conversation")
    mine = conversation.party and conversation.party.user_id == user.pk
    if conversation.kind == Kind.SUPPORT:
        if mine:
            return _("You and your facilitator")
        return _("With %(name)s") % {"name": conversation.party.pseudonym}
    if mine:
        return _("Messages through your facilitator")
    word = program.word_for(conversation.party.role)
    return _("Exchange through the facilitator: %(word)s %(name)s") % {
        "word": word,
        "name": conversation.party.pseudonym,
    }


def interpreter_present(members_now: list[dict]) -> bool:
    """Whether an interpreter is among a conversation's members (`members`): the page says so to everyone
    in it, without saying whom they help."""
    return any(m["role_code"] == Role.INTERPRETER for m in members_now)


def unread_counts(user, conversations) -> dict[int, int]:
    """How many messages encrypted to this person, written by someone else, they have not read yet, per
    conversation (its pk): one query, whatever the number of conversations or messages."""
    rows = (
        Recipient.objects.filter(user=user, read_at__isnull=True, message__conversation__in=conversations)
        .exclude(message__sender=user)
        .values("message__conversation")
        .annotate(n=Count("pk"))
    )
    return {row["message__conversation"]: row["n"] for row in rows}


def unread_for_staff(user, limit: int = 10) -> list[dict]:
    """The conversations where messages wait unread for this staff member, newest first: one query. A case
    they no longer run is left out (their rows stay, the conversation does not)."""
    rows = (
        Recipient.objects.filter(
            user=user,
            read_at__isnull=True,
            message__conversation__case__participants__user=user,
            message__conversation__case__participants__removed_at__isnull=True,
        )
        .exclude(message__sender=user)
        .values(
            "message__conversation__public_id",
            "message__conversation__case__reference",
        )
        .annotate(n=Count("pk", distinct=True), newest=Max("message__created_at"))
        .order_by("-newest")[:limit]
    )
    return [
        {
            "reference": row["message__conversation__case__reference"],
            "public_id": row["message__conversation__public_id"],
            "count": row["n"],
        }
        for row in rows
    ]
