"""The conversation page's context: how the composer works for this person, and where a facilitator can
pass a party's words on."""

import json

from mend.dialogue import rules, selectors, services
from mend.dialogue.models import Conversation
from mend.readiness.snapshot import places_of

GUIDED_KINDS = (Conversation.Kind.RELAY, Conversation.Kind.DIRECT)


def composer_kind(conversation: Conversation, place) -> str:
    if conversation.kind == Conversation.Kind.RELAY and not place.is_facilitating:
        return "for_relay"
    return "message"


def relay_targets(conversation: Conversation, place, places: tuple | None = None) -> list[dict]:
    """Where a facilitator can pass on what this party wrote: the other side's exchanges (opened through
    the dialogue's service the first time the page needs them, as the page always did)."""
    if conversation.kind != Conversation.Kind.RELAY or not place.is_facilitating:
        return []
    author = conversation.party
    targets = []
    for other in rules.parties(conversation.case, places):
        if other.role != author.role:
            target = services.conversation_open(
                case=conversation.case, kind=Conversation.Kind.RELAY, party=other
            )
            name = f"{conversation.case.program.word_for(other.role)} {other.pseudonym}"
            targets.append({"id": target.public_id, "name": name})
    return targets


def conversation_page(case, conversation: Conversation, user) -> dict:
    places = places_of(conversation.case)  # who is where, read once for the whole page
    place = rules.place_of(conversation, user, places)
    kind = composer_kind(conversation, place)
    members = selectors.members(conversation, places)
    return {
        "case": case,
        "conversation": conversation,
        "title": selectors.conversation_title(conversation, user),
        "with": selectors.conversation_with(conversation, user, places),
        "place": place,
        "kind": kind,
        "guide": place.role == "responsible_party" and conversation.kind in GUIDED_KINDS,
        "state": selectors.writing_state(conversation, user, kind, places=places),
        "members": members,
        "interpreter_present": selectors.interpreter_present(members),
        "targets": json.dumps(relay_targets(conversation, place, places)),
        "shows_receipts": services.receipts_shown(user, conversation, places),
    }


def conversation_list(case, user) -> dict:
    snap = rules.people_snapshot(case)  # who is where, their choices and standing: read once for the page
    conversations = services.conversations_open_for(case=case, user=user, snap=snap)
    unread = selectors.unread_counts(user, conversations)
    rows = [
        {
            "conversation": c,
            "title": selectors.conversation_title(c, user),
            "with": selectors.conversation_with(c, user, snap=snap),
            "unread": unread.get(c.pk, 0),
        }
        for c in conversations
    ]
    has_team = any(c.kind == Conversation.Kind.TEAM for c in conversations)
    return {"case": case, "rows": rows, "queue": selectors.pending_relays(case) if has_team else None}
