"""Who is in a conversation, who may write there now, and to whom: the one place for these rules.

Each check returns what is missing, in words a facilitator can act on; parties get a calmer, general
answer (see `refusal_for`), so nobody learns the other side's consent or pause from a refusal.
"""

from django.utils.translation import gettext as _

from mend.cases import guards
from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Participant, Role
from mend.consent.selectors import choices_of, current_scopes
from mend.dialogue.models import Conversation

CONTACT_STAGES = ("encounter", "agreement", "follow_up")


# Who is where needs only the places (guards.places); a check that needs consent or preparation records
# reads them for everyone at once (guards.people), or for the one person it concerns.


def facilitators(case) -> list[Participant]:
    """The case's facilitators who are still staff of its program with an active account: a place left
    behind by someone who left the program, or whose account was closed, reads and receives nothing."""
    return [
        p
        for p in guards.places(case)
        if p.role in FACILITATING_ROLES and p.user_id and p.user.is_active and p.in_program
    ]


def parties(case) -> list[Participant]:
    return [p for p in guards.places(case) if p.role in PARTY_ROLES and p.user_id and p.has_joined]


def _place(case, participant_id) -> Participant | None:
    return next((p for p in guards.places(case) if p.pk == participant_id), None)


def readers(conversation: Conversation) -> list[Participant]:
    """Everyone whose place in the case puts them in this conversation, whether or not they may write now."""
    case = conversation.case
    team = facilitators(case)
    if conversation.kind == Conversation.Kind.TEAM:
        return team
    if conversation.kind == Conversation.Kind.DIRECT:
        # The parties are in it only while every person harmed chooses direct contact: otherwise the person
        # responsible has no way in at all, not even to its history.
        return (parties(case) if direct_chosen(case) else []) + team
    party = _place(case, conversation.party_id)
    return ([party] if party is not None and party.user_id else []) + team


def place_of(conversation: Conversation, user) -> Participant | None:
    return next((p for p in readers(conversation) if p.user_id == user.pk), None)


def direct_chosen(case) -> bool:
    guards.people(case)  # everyone's choices in one read
    harmed = [p for p in parties(case) if p.role == Role.HARMED_PARTY]
    return bool(harmed) and all(choices_of(p).mode == "direct" for p in harmed)


def _side(place: Participant) -> str:
    return "harmed" if place.role == Role.HARMED_PARTY else "responsible"


def contact_missing(case, *, mode: str) -> list[str]:
    """What stands between the parties and contact in this mode: the stage, the encounter's guards, and
    the choice of every person harmed."""
    missing = []
    if case.stage == "paused":
        missing.append(_("the case to resume from its pause"))
    elif case.stage == "closed":
        missing.append(_("the case to be open"))
    elif case.stage not in CONTACT_STAGES:
        missing.append(_("the case to reach the encounter stage"))
    missing += guards.encounter_ready(case)
    for place in parties(case):
        if place.role == Role.HARMED_PARTY and choices_of(place).mode != mode:
            missing.append(
                _("the %(name)s to choose an exchange through the facilitator")
                % {"name": guards._name(case, place)}
                if mode == "indirect"
                else _("the %(name)s to choose to meet directly") % {"name": guards._name(case, place)}
            )
    return list(dict.fromkeys(missing))


def _facilitator_contact_missing(case, place: Participant | None) -> list[str]:
    if place is None:
        return [_("the person to be in the case")]
    missing = []
    if case.stage == "closed":
        missing.append(_("the case to be open"))
    scopes = current_scopes(place)
    if "take_part" not in scopes or "facilitator_contact" not in scopes:
        missing.append(
            _("consent of the %(name)s to be contacted by the facilitator")
            % {"name": guards._name(case, place)}
        )
    return missing


def writing_missing(conversation: Conversation, sender: Participant, kind: str, ref=None) -> list[str]:
    """What must change before `sender` may write a message of `kind` here (empty: they may)."""
    case = conversation.case
    Kind = Conversation.Kind
    facilitating = sender.role in FACILITATING_ROLES
    if conversation.kind == Kind.TEAM:
        return [] if facilitating and kind == "message" else [_("a place on the case team")]
    if conversation.kind == Kind.SUPPORT:
        if kind != "message":
            return [_("a plain message: relays happen in the exchange through the facilitator")]
        return _facilitator_contact_missing(case, _place(case, conversation.party_id))
    if conversation.kind == Kind.DIRECT:
        if kind != "message":
            return [_("a plain message: relays happen in the exchange through the facilitator")]
        return contact_missing(case, mode="direct")
    # The exchange through the facilitator: the party writes for the other side, facilitators relay.
    owner = _place(case, conversation.party_id)
    if not facilitating:
        if kind != "for_relay":
            return [_("a message for your facilitator to review")]
        return contact_missing(case, mode="indirect")
    if kind == "returned":
        if ref is None or ref.conversation_id != conversation.pk or ref.kind != "for_relay":
            return [_("a message of this conversation to return")]
        if ref.relay_state != "pending":
            return [_("a message that is still waiting for review")]
        return _facilitator_contact_missing(case, owner)
    if kind == "relayed":
        if ref is None or ref.kind != "for_relay" or ref.conversation.case_id != case.pk:
            return [_("a message from the other side to pass on")]
        author = _place(case, ref.conversation.party_id)
        if ref.relay_state != "pending" or not ref.approved:
            return [_("a message its writer agreed to have passed on, still waiting for review")]
        if owner is None or author is None or _side(owner) == _side(author):
            return [_("a person on the other side to receive it")]
        return contact_missing(case, mode="indirect")
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
