"""Who is in a conversation, who may write there now, and to whom: the one place for these rules.

Each check returns what is missing, in words a facilitator can act on; parties get a calmer, general
answer (see `refusal_for`), so nobody learns the other side's consent or pause from a refusal.
"""

from django.utils.translation import gettext as _

from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Participant, Role
from mend.dialogue.models import Conversation
from mend.readiness import rules as readiness
from mend.readiness.snapshot import choices_snapshot, consent_snapshot, places_of, snapshot_of

# Who is where needs only the places (mend.readiness.snapshot.places_of, one query); a check that needs
# consent or preparation records takes a snapshot of them. A caller making several checks at once reads
# the places once and passes them (`places`); without them each function reads them afresh.

Places = tuple[Participant, ...]


def facilitators(case, places: Places | None = None) -> list[Participant]:
    """The case's facilitators who are still staff of its program with an active account: a place left
    behind by someone who left the program, or whose account was closed, reads and receives nothing."""
    return [
        p
        for p in (places_of(case) if places is None else places)
        if p.role in FACILITATING_ROLES and p.user_id and p.user.is_active and p.in_program
    ]


def parties(case, places: Places | None = None) -> list[Participant]:
    places = places_of(case) if places is None else places
    return [p for p in places if p.role in PARTY_ROLES and p.user_id and p.has_joined]


def _place(places: Places, participant_id) -> Participant | None:
    return next((p for p in places if p.pk == participant_id), None)


def readers(conversation: Conversation, places: Places | None = None) -> list[Participant]:
    """Everyone whose place in the case puts them in this conversation, whether or not they may write now."""
    case = conversation.case
    places = places_of(case) if places is None else places
    team = facilitators(case, places)
    if conversation.kind == Conversation.Kind.TEAM:
        return team
    if conversation.kind == Conversation.Kind.DIRECT:
        # The parties are in it only while every person harmed chooses direct contact: otherwise the person
        # responsible has no way in at all, not even to its history.
        chosen = readiness.direct_chosen(choices_snapshot(case, places))
        return (parties(case, places) if chosen else []) + team
    party = _place(places, conversation.party_id)
    return ([party] if party is not None and party.user_id else []) + team


def place_of(conversation: Conversation, user, places: Places | None = None) -> Participant | None:
    return next((p for p in readers(conversation, places) if p.user_id == user.pk), None)


def _side(place: Participant) -> str:
    return "harmed" if place.role == Role.HARMED_PARTY else "responsible"


def writing_missing(
    conversation: Conversation, sender: Participant, kind: str, ref=None, places: Places | None = None
) -> list[str]:
    """What must change before `sender` may write a message of `kind` here (empty: they may)."""
    case = conversation.case
    Kind = Conversation.Kind
    facilitating = sender.role in FACILITATING_ROLES
    if conversation.kind == Kind.TEAM:
        return [] if facilitating and kind == "message" else [_("a place on the case team")]
    places = places_of(case) if places is None else places
    if conversation.kind == Kind.SUPPORT:
        if kind != "message":
            return [_("a plain message: relays happen in the exchange through the facilitator")]
        return readiness.facilitator_contact_missing(
            consent_snapshot(case, places), _place(places, conversation.party_id)
        )
    if conversation.kind == Kind.DIRECT:
        if kind != "message":
            return [_("a plain message: relays happen in the exchange through the facilitator")]
        return readiness.contact_missing(snapshot_of(case, places), mode="direct")
    # The exchange through the facilitator: the party writes for the other side, facilitators relay.
    owner = _place(places, conversation.party_id)
    if not facilitating:
        if kind != "for_relay":
            return [_("a message for your facilitator to review")]
        return readiness.contact_missing(snapshot_of(case, places), mode="indirect")
    if kind == "returned":
        if ref is None or ref.conversation_id != conversation.pk or ref.kind != "for_relay":
            return [_("a message of this conversation to return")]
        if ref.relay_state != "pending":
            return [_("a message that is still waiting for review")]
        return readiness.facilitator_contact_missing(consent_snapshot(case, places), owner)
    if kind == "relayed":
        if ref is None or ref.kind != "for_relay" or ref.conversation.case_id != case.pk:
            return [_("a message from the other side to pass on")]
        author = _place(places, ref.conversation.party_id)
        if ref.relay_state != "pending" or not ref.approved:
            return [_("a message its writer agreed to have passed on, still waiting for review")]
        if owner is None or author is None or _side(owner) == _side(author):
            return [_("a person on the other side to receive it")]
        return readiness.contact_missing(snapshot_of(case, places), mode="indirect")
    return [_("a relayed or returned message")]


def refusal_for(sender: Participant, missing: list[str]) -> str:
    if sender.role in FACILITATING_ROLES:
        return _("This message cannot be sent yet. Still needed: %(missing)s.") % {
            "missing": "; ".join(missing)
        }
    return _(
        "Messages here are paused for now, so this one was not sent. Your facilitator will let you know "
        "when you can write again."
    )
