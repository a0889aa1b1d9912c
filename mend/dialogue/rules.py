"""Who is in a conversation, who may write there now, and to whom: the one place for these rules.

Each check returns what is missing, in words a facilitator can act on; parties get a calmer, general
answer (see `refusal_for`), so nobody learns the other side's consent or pause from a refusal.
"""

import dataclasses

from django.utils.translation import gettext as _

from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Participant, Role
from mend.consent.models import Scope
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


# --- interpreters -------------------------------------------------------------------------------------------
# An interpreter is attached to one party (Participant.supports, as a supporter is). They are in that party's
# conversations, as a reader and a recipient like any member, while the party has given the interpreter
# consent and is on their path, and while the interpreter themselves has joined, consents to take part and
# is on their own path. Withdrawing that consent, or the party stepping off their path, takes them out at
# once. They read to help; they do not write (writing_missing). The others see that an interpreter is there,
# never whom they help nor their pseudonym (mend.dialogue.selectors).


def _attached(places: Places, party_ids: set[int]) -> list[Participant]:
    return [
        p
        for p in places
        if p.role == Role.INTERPRETER and p.supports_id in party_ids and p.user_id and p.has_joined
    ]


def interpreting(snap, interpreter: Participant) -> bool:
    """Whether this interpreter helps their party now (`snap`: with consents, e.g. consent_snapshot)."""
    party = snap.place(interpreter.supports_id)
    return (
        interpreter.role == Role.INTERPRETER
        and party is not None
        and party.role in PARTY_ROLES
        and Scope.INTERPRETER in snap.scopes_of(party)
        and readiness.on_path(snap, party)
        and Scope.TAKE_PART in snap.scopes_of(interpreter)
        and readiness.on_path(snap, interpreter)
    )


def interpreters_for(case, people: list[Participant], places: Places | None = None, snap=None):
    """The interpreters helping any of these people now, in the order of their places. The consents are read
    only when one of them has an interpreter attached (`snap`: a snapshot with consents, if the caller has
    one), so a case without interpreters costs nothing more."""
    places = (snap.places if snap is not None else places_of(case)) if places is None else places
    attached = _attached(places, {p.pk for p in people})
    if not attached:
        return []
    snap = snap if snap is not None else consent_snapshot(case, places)
    return [p for p in attached if interpreting(snap, p)]


def _place(places: Places, participant_id) -> Participant | None:
    return next((p for p in places if p.pk == participant_id), None)


# --- direct conversations: one per pair of "units" ---------------------------------------------------------
# A unit is one person, or the group of the people on that side who each agreed to be seen by the others
# (Participant.seen_by_same_side), when there are at least two of them. A direct conversation is keyed by its
# harmed unit (`party`: the person, or empty for the group) and its responsible unit (`counterpart`: the
# person, or empty for the group). On the harmed side only the people who chose direct contact (mode
# "direct") are in any direct conversation; the people responsible are in one only while someone harmed in
# it chose direct contact. So nobody sees a person on their own side without that mutual agreement, and a
# person responsible sees only the people harmed who chose to meet them (mend.readiness.rules.visible_to).
#
# Someone on a break, stopped or excluded keeps reading what was already theirs (they stay a reader), but
# receives nothing further: `recipients` leaves them out, so nothing new is encrypted or sent to them.


def people_snapshot(case, places: Places | None = None):
    """The places with the choices of the people harmed and everyone's consents: enough to know who is in
    which direct conversation and who is on their path (two queries, three without `places`)."""
    places = places_of(case) if places is None else places
    return dataclasses.replace(consent_snapshot(case, places), choices=choices_snapshot(case, places).choices)


def _direct_side(snap, role: str) -> list[Participant]:
    """The people of this side who can be in a direct conversation at all, whatever their standing."""
    found = [p for p in snap.places if p.role == role and p.user_id and p.has_joined]
    if role == Role.HARMED_PARTY:
        found = [p for p in found if snap.choices_of(p).mode == "direct"]
    return found


def _grouped(people: list[Participant]) -> list[Participant]:
    """The group of this side: everyone who agreed to be seen by the others, when at least two did."""
    agreed = [p for p in people if p.seen_by_same_side]
    return agreed if len(agreed) >= 2 else []


def _unit(people: list[Participant], key_id) -> list[Participant]:
    group = _grouped(people)
    if key_id is None:
        return group
    return [p for p in people if p.pk == key_id and p not in group]


def direct_units(snap) -> list[tuple[int | None, int | None]]:
    """The direct conversations the case has now, as (party id or None, counterpart id or None)."""
    harmed = _direct_side(snap, Role.HARMED_PARTY)
    responsible = _direct_side(snap, Role.RESPONSIBLE_PARTY)

    def keys(people):
        group = _grouped(people)
        return ([None] if group else []) + [p.pk for p in people if p not in group]

    return [(h, r) for h in keys(harmed) for r in keys(responsible)]


def direct_unit_key(snap, place: Participant) -> int | None:
    """The key this person's unit has on its side: their own id, or None for their side's group."""
    side = _direct_side(snap, place.role)
    return None if place in _grouped(side) else place.pk


def direct_people(conversation: Conversation, snap) -> list[Participant]:
    """The parties of a direct conversation, whatever their standing: its harmed unit, then its responsible
    unit; nobody when either unit is empty (the person harmed no longer chooses direct contact: the person
    responsible then has no way in at all, not even to its history)."""
    harmed = _unit(_direct_side(snap, Role.HARMED_PARTY), conversation.party_id)
    responsible = _unit(_direct_side(snap, Role.RESPONSIBLE_PARTY), conversation.counterpart_id)
    if not harmed or not responsible:
        return []
    return harmed + responsible


def direct_readers(conversation: Conversation, snap) -> list[Participant]:
    """The parties who read a direct conversation now (`snap`: people_snapshot). Its people
    (direct_people), except that while nobody on one side of it is on their path, the other side is out of
    it too, as if that side had never come: so nobody learns from a conversation named after them that a
    person stepped back. The person left out keeps reading what was already theirs."""
    people = direct_people(conversation, snap)
    going = {p.role for p in people if readiness.on_path(snap, p)}
    return [p for p in people if not readiness.on_path(snap, p) or _other_role(p.role) in going]


def side_away(conversation: Conversation, snap) -> bool:
    """Whether nobody on one side of this direct conversation (opened or not yet) is on their path now."""
    people = direct_people(conversation, snap)
    return bool(people) and len({p.role for p in people if readiness.on_path(snap, p)}) < 2


def _other_role(role: str) -> str:
    return Role.RESPONSIBLE_PARTY if role == Role.HARMED_PARTY else Role.HARMED_PARTY


def readers(conversation: Conversation, places: Places | None = None, snap=None) -> list[Participant]:
    """Everyone whose place in the case puts them in this conversation, whether or not they may write now
    (someone left out of the case for now still reads what was already theirs). `snap`: a people_snapshot
    of the case, when the caller has one (it holds the places too)."""
    case = conversation.case
    if snap is not None:
        places = snap.places
    places = places_of(case) if places is None else places
    team = facilitators(case, places)
    if conversation.kind == Conversation.Kind.TEAM:
        return team
    if conversation.kind == Conversation.Kind.DIRECT:
        snap = snap or people_snapshot(case, places)
        people = direct_readers(conversation, snap)
        # After the team, in the order of their places: nothing in the list tells whom each one helps.
        return people + team + interpreters_for(case, people, places, snap)
    party = _place(places, conversation.party_id)
    people = [party] if party is not None and party.user_id else []
    return people + team + interpreters_for(case, people, places, snap)


def recipients(conversation: Conversation, places: Places | None = None) -> list[Participant]:
    """Whom a new message here goes to. In a direct conversation: its readers on their path (a person on a
    break, stopped or excluded receives nothing further, mend.readiness.rules.on_path) and the team. In a
    person's own conversations with the team every reader: what reaches a person left out is refused before
    it is written (writing_missing), and what they write themselves reaches the team."""
    case = conversation.case
    places = places_of(case) if places is None else places
    if conversation.kind != Conversation.Kind.DIRECT:
        return readers(conversation, places)
    snap = people_snapshot(case, places)
    everyone = readers(conversation, snap=snap)
    return [p for p in everyone if p.role in FACILITATING_ROLES or readiness.on_path(snap, p)]


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
    if sender.role == Role.INTERPRETER:
        return [_("a place as the person helped or a facilitator: an interpreter reads here to help")]
    if conversation.kind == Kind.TEAM:
        return [] if facilitating and kind == "message" else [_("a place on the case team")]
    places = places_of(case) if places is None else places
    if conversation.kind == Kind.SUPPORT:
        if kind != "message":
            return [_("a plain message: relays happen in the exchange through the facilitator")]
        return _to_person_missing(
            consent_snapshot(case, places), _place(places, conversation.party_id), sender
        )
    if conversation.kind == Kind.DIRECT:
        if kind != "message":
            return [_("a plain message: relays happen in the exchange through the facilitator")]
        snap = snapshot_of(case, places)
        between = _direct_between(conversation, sender, snap)
        missing = readiness.contact_missing(snap, mode="direct", between=between)
        if not direct_people(conversation, snap):
            missing.append(
                _("the %(role)s to choose to meet directly")
                % {"role": case.program.word_for(Role.HARMED_PARTY)}
            )
        return missing
    # The exchange through the facilitator: the party writes for the other side, facilitators relay.
    owner = _place(places, conversation.party_id)
    if not facilitating:
        if kind != "for_relay":
            return [_("a message for your facilitator to review")]
        return _for_relay_missing(snapshot_of(case, places), sender)
    if kind == "returned":
        if ref is None or ref.conversation_id != conversation.pk or ref.kind != "for_relay":
            return [_("a message of this conversation to return")]
        if ref.relay_state != "pending":
            return [_("a message that is still waiting for review")]
        return _to_person_missing(consent_snapshot(case, places), owner, sender)
    if kind == "relayed":
        if ref is None or ref.kind != "for_relay" or ref.conversation.case_id != case.pk:
            return [_("a message from the other side to pass on")]
        author = _place(places, ref.conversation.party_id)
        if ref.relay_state != "pending" or not ref.approved:
            return [_("a message its writer agreed to have passed on, still waiting for review")]
        if owner is None or author is None or _side(owner) == _side(author):
            return [_("a person on the other side to receive it")]
        # Only these two: one person's stop holds what is for them (it stays waiting) and nothing else.
        return readiness.contact_missing(snapshot_of(case, places), mode="indirect", between=[owner, author])
    return [_("a relayed or returned message")]


def _direct_between(conversation: Conversation, sender: Participant, snap) -> list[Participant]:
    """The people a direct message is contact between: the sender, and the conversation's people on their
    path. A side with nobody on their path is named by its people, so staff read what each of them lacks."""
    people = direct_people(conversation, snap)
    between = [sender] if sender.role in PARTY_ROLES else []
    for role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        side = [p for p in people if p.role == role]
        going = [p for p in side if readiness.on_path(snap, p)]
        between += [p for p in (going or side) if p not in between]
    return between


def _to_person_missing(snap, place: Participant | None, sender: Participant) -> list[str]:
    """What stands between the team writing to this one person in their own conversation: their consent
    (mend.readiness.rules.facilitator_contact_missing, each consent named on its own), and, from the team,
    their being on their path (a person on a break, stopped or excluded receives nothing further). The
    person may always write to the team themselves, within their consents."""
    missing = readiness.facilitator_contact_missing(snap, place)
    if place is not None and sender.role in FACILITATING_ROLES:
        missing += readiness.presence_missing(snap, place, set())
    return list(dict.fromkeys(missing))


def _for_relay_missing(snap, sender: Participant) -> list[str]:
    """A party writes for the other side while contact through the facilitator could reach someone there:
    at least one person of the other side on their path with whom nothing is missing. Otherwise what is
    missing with the people there (all of them on their path), so staff read each consent and choice."""
    others = [p for p in readiness.parties(snap) if p.role in PARTY_ROLES and _side(p) != _side(sender)]
    if sender.role == Role.RESPONSIBLE_PARTY:
        chose = [p for p in others if snap.choices_of(p).mode == "indirect"]
        others = chose or others
    if not others:
        return [_("someone on the other side taking part")]
    for other in others:
        if not readiness.contact_missing(snap, mode="indirect", between=[sender, other]):
            return []
    return readiness.contact_missing(snap, mode="indirect", between=[sender, *others])


def refusal_for(sender: Participant, missing: list[str]) -> str:
    if sender.role == Role.INTERPRETER:
        return _(
            "You read this conversation to help. Only the person you help and the facilitators write here."
        )
    if sender.role in FACILITATING_ROLES:
        return _("This message cannot be sent yet. Still needed: %(missing)s.") % {
            "missing": "; ".join(missing)
        }
    return paused_words()


def paused_words() -> str:
    """What a party reads when they may not write now, before or after trying: nothing about whom or why,
    and nothing about a message not sent."""
    return _("Messages are paused for now. Your facilitator will let you know when you can write again.")
