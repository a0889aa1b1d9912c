"""What still stands in the way, as pure functions over a snapshot (mend.readiness.snapshot): each returns
the missing items in words a facilitator can act on, naming the people concerned by their pseudonyms, and
an empty list when nothing is missing. No function here reads the database."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from mend.cases.models import FACILITATING_ROLES, PARTY_ROLES, Case, Participant, Role
from mend.readiness.snapshot import Snapshot, consent_snapshot, snapshot_of

MODE_SCOPE = {"indirect": "indirect_exchange", "direct": "direct_meeting"}
CONTACT_STAGES = ("encounter", "agreement", "follow_up")


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- who is who -------------------------------------------------------------------------------------------


def name_of(snap: Snapshot, place: Participant) -> str:
    """A person as the others know them: the program's word for their place, and their pseudonym."""
    word = snap.case.program.word_for(place.role)
    return f"{word} ({place.pseudonym})" if place.pseudonym else word


def side_of(snap: Snapshot, place: Participant) -> str:
    """harmed or responsible for the parties and their supporters; "" for everyone else."""
    if place.role == Role.HARMED_PARTY:
        return "harmed"
    if place.role == Role.RESPONSIBLE_PARTY:
        return "responsible"
    if place.role == Role.SUPPORTER and place.supports_id:
        supported = snap.place(place.supports_id)
        return side_of(snap, supported) if supported is not None else ""
    return ""


# --- each person's path ----------------------------------------------------------------------------------
# Each person in a case has their own standing. What one person's choice stops is what involves that person;
# the case goes on for the others while at least one person on each side is still on their path.

INVITED = "invited"  # has not taken up their place yet
TAKING_PART = "taking_part"  # on their path (their consents and preparation may still be missing)
ON_BREAK = "on_break"  # "I need a break": they come back when they say so
STOPPED = "stopped"  # withdrew their consent to take part; giving it again brings them back
EXCLUDED = "excluded"  # staff marked them as no longer in the process; consenting again brings them back
FINISHED = "finished"  # the case has closed
STANDINGS = (INVITED, TAKING_PART, ON_BREAK, STOPPED, EXCLUDED, FINISHED)
# A person in one of these is in no guard, meeting ahead, new message or signing. Stopped or excluded, they
# receive nothing new at all; on a break, they still find neutral notices on their own page (the case
# closing, who joined the team) for when they come back, and nothing is scheduled with them.
LEFT_OUT = frozenset({ON_BREAK, STOPPED, EXCLUDED})


def standing_of(snap: Snapshot, place: Participant) -> str:
    """Where this person stands on their own path. Needs their consents (snapshot_of or consent_snapshot)."""
    if snap.case.stage == "closed":
        return FINISHED
    if place.excluded_at is not None:
        return EXCLUDED
    if place.pk in snap.took_part and "take_part" not in snap.scopes_of(place):
        return STOPPED
    if place.paused_at is not None:
        return ON_BREAK
    if not place.has_joined:
        return INVITED
    return TAKING_PART


def on_path(snap: Snapshot, place: Participant) -> bool:
    """Whether this person is on their path now: not on a break, stopped or excluded."""
    return standing_of(snap, place) not in LEFT_OUT


def all_parties(snap: Snapshot) -> list[Participant]:
    """Every party who has joined, whatever their standing."""
    return [p for p in snap.places if p.role in PARTY_ROLES and p.has_joined]


def parties(snap: Snapshot) -> list[Participant]:
    """The parties who have joined and are on their path: the people the case's guards are about."""
    return [p for p in all_parties(snap) if on_path(snap, p)]


def left_out(snap: Snapshot) -> list[Participant]:
    """The parties who joined and are off their path for now (on a break, stopped or excluded)."""
    return [p for p in all_parties(snap) if not on_path(snap, p)]


def sides_missing(snap: Snapshot) -> list[str]:
    """At least one person harmed and one person responsible on their path (invited counts: they may still
    join). When a side has nobody left, the whole case pauses."""
    case = snap.case
    # From preparation on, both sides have joined (the guard parties_joined): a side with no place left (the
    # last person on it asked for their information to be deleted) is empty, not merely not invited yet.
    stage = case.paused_from if case.stage == "paused" else case.stage
    both_joined = stage in ("preparation", "encounter", "agreement", "follow_up")
    missing = []
    for role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        places = [p for p in snap.places if p.role == role]
        if (places or both_joined) and not any(on_path(snap, p) for p in places):
            missing.append(
                _("at least one %(role)s taking part") % {"role": snap.case.program.word_for(role)}
            )
    return missing


def visible_to(snap: Snapshot, viewer: Participant, place: Participant) -> bool:
    """Whether `viewer` (a party or supporter) may see `place` at all, by pseudonym. Staff see everyone; a
    person sees themselves, the facilitators, and their own supporters. People on the same side see each
    other only when both agreed (seen_by_same_side); a supporter is seen only by the person they support
    and by whoever may see that person. Across the sides, a person responsible (and their supporters) sees
    only the people harmed who chose to meet them (mode direct); rules for particular places (a
    conversation, a meeting) may narrow this further."""
    if viewer.role in FACILITATING_ROLES or place.pk == viewer.pk or place.role in FACILITATING_ROLES:
        return True
    me = viewer if viewer.role in PARTY_ROLES else snap.place(viewer.supports_id)
    them = place if place.role in PARTY_ROLES else snap.place(place.supports_id)
    if me is None or them is None:
        return False  # a community member or interpreter, or a supporter of nobody: staff introduce them
    if me.pk == them.pk:
        return True  # a person and their own supporters
    if me.role == them.role:
        return me.seen_by_same_side and them.seen_by_same_side
    if me.role == Role.HARMED_PARTY:
        return True
    return snap.choices_of(them).mode == "direct"


def told_of_leaving(snap: Snapshot, place: Participant) -> list[Participant]:
    """Who hears, with no name, that one person will not take part for now when `place` steps back: the
    parties on their path on the other side, and those on the same side who may see that person. Never the
    person themselves; the facilitators hear who, separately (mend.cases.notices.one_not_taking_part)."""
    return [
        p for p in parties(snap) if p.pk != place.pk and (p.role != place.role or visible_to(snap, p, place))
    ]


def case_told_of_leaving(case: Case, place: Participant) -> list[Participant]:
    """told_of_leaving on the consents read now (mend.cases.hooks.told_of_leaving)."""
    snap = consent_snapshot(case)
    return told_of_leaving(snap, snap.place(place.pk) or place)


def chosen_modes(snap: Snapshot) -> tuple[set[str], list[str]]:
    """The modes the harmed parties chose, and who has not chosen yet."""
    modes, undecided = set(), []
    for place in parties(snap):
        if place.role == Role.HARMED_PARTY:
            mode = snap.choices_of(place).mode
            if mode == "undecided":
                undecided.append(
                    _("the %(name)s to choose how to take part") % {"name": name_of(snap, place)}
                )
            else:
                modes.add(mode)
    return modes, undecided


# --- the stage table's guards -----------------------------------------------------------------------------


def facilitator_missing(snap: Snapshot) -> list[str]:
    if any(p.role in FACILITATING_ROLES for p in snap.places):
        return []
    return [_("a facilitator assigned to the case")]


def parties_missing(snap: Snapshot) -> list[str]:
    missing = []
    for role in (Role.HARMED_PARTY, Role.RESPONSIBLE_PARTY):
        places = [p for p in snap.places if p.role == role]
        if not places:
            missing.append(_("an invitation for the %(role)s") % {"role": snap.case.program.word_for(role)})
        for place in places:
            if not place.has_joined and place.excluded_at is None:
                missing.append(
                    _("the %(role)s to accept their invitation") % {"role": snap.case.program.word_for(role)}
                )
    return missing


def conflict_missing(snap: Snapshot) -> list[str]:
    snap.require_complete("conflict_missing")
    return [
        _("a conflict-of-interest declaration by %(name)s") % {"name": user.display_name}
        for user in snap.undeclared
    ]


def presence_missing(snap: Snapshot, place: Participant, modes: set[str]) -> list[str]:
    """One person's break, consent to take part, and consent to each of these modes."""
    missing = []
    name = name_of(snap, place)
    if place.excluded_at is not None:
        missing.append(_("the %(name)s to be back in the process") % {"name": name})
    if place.paused_at is not None:
        missing.append(_("the %(name)s to come back from their break") % {"name": name})
    scopes = snap.scopes_of(place)
    if "take_part" not in scopes:
        missing.append(_("consent to take part from the %(name)s") % {"name": name})
    if "indirect" in modes and MODE_SCOPE["indirect"] not in scopes:
        missing.append(_("consent of the %(name)s to an exchange through the facilitator") % {"name": name})
    if "direct" in modes and MODE_SCOPE["direct"] not in scopes:
        missing.append(_("consent of the %(name)s to meet directly") % {"name": name})
    return missing


def preparation_missing(snap: Snapshot, people: list[Participant] | None = None) -> list[str]:
    """The preparation of these parties (all on their path when None): acknowledgment, assessment, plan."""
    snap.require_complete("preparation_missing")
    missing = []
    joined = parties(snap) if people is None else [p for p in people if p.role in PARTY_ROLES]
    for place in joined:
        if place.role == Role.RESPONSIBLE_PARTY:
            state = snap.acknowledgment_of(place)
            if state == "none":
                missing.append(
                    _("acknowledgment of the harm by the %(name)s") % {"name": name_of(snap, place)}
                )
            elif state == "submitted":
                missing.append(
                    _("a facilitator's confirmation of the acknowledgment by the %(name)s")
                    % {"name": name_of(snap, place)}
                )
    for place in joined:
        if snap.outcome_of(place) != "ready":
            missing.append(_("readiness assessment of the %(name)s") % {"name": name_of(snap, place)})
    for place in joined:
        if place.role == Role.HARMED_PARTY and not snap.has_safety_plan(place):
            missing.append(_("safety plan for the %(name)s") % {"name": name_of(snap, place)})
    return missing


def encounter_missing(snap: Snapshot) -> list[str]:
    """Everything the encounter needs, for the people on their path: a facilitator, someone on each side,
    every choice made, consent for the chosen modes, preparation, and no undeclared conflict of interest.
    A person on a break, stopped or excluded is not waited for: the encounter goes on for the others."""
    snap.require_complete("encounter_missing")
    missing = facilitator_missing(snap) + parties_missing(snap) + sides_missing(snap)
    modes, undecided = chosen_modes(snap)
    missing += undecided
    for place in parties(snap):
        missing += presence_missing(snap, place, modes)
    return missing + preparation_missing(snap) + conflict_missing(snap)


def each_side_missing(snap: Snapshot) -> list[str]:
    """The resume guard: someone on each side on their path (mend.readiness.rules.sides_missing)."""
    snap.require_complete("each_side_missing")
    return sides_missing(snap)


# The names the stage table (mend.cases.workflow) gives its guards: each the condition that must hold.
GUARDS: dict[str, Callable[[Snapshot], list[str]]] = {
    "facilitator_assigned": facilitator_missing,
    "parties_joined": parties_missing,
    "encounter_ready": encounter_missing,
    "each_side_taking_part": each_side_missing,
}


def guards_missing(snap: Snapshot, guard_names: tuple[str, ...]) -> list[str]:
    return _unique(item for name in guard_names for item in GUARDS[name](snap))


def case_guards_missing(case: Case, guard_names: tuple[str, ...]) -> list[str]:
    """The stage machine's question (mend.cases.hooks.guards_missing), on a snapshot read now."""
    return guards_missing(snapshot_of(case), guard_names)


# --- meetings -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Missing:
    """One thing that stands between a meeting and its attendees, and whom it keeps out: the people named
    in `concerns` (by participant id), or everyone attending when it is None. The video room admits a person
    only when nothing concerns them (room_missing); scheduling refuses the meeting for anything at all
    (meeting_missing). `in_room` is the room's own words for it, where they differ."""

    text: str
    concerns: frozenset[int] | None = None
    in_room: str = ""

    def about(self, place: Participant) -> bool:
        return self.concerns is None or place.pk in self.concerns


def _represented(snap: Snapshot, attendees: list[Participant], sides: dict[int, str]) -> list[Participant]:
    """The people harmed whom a meeting concerns: present themselves, or through a supporter."""
    represented = []
    for place in attendees:
        if sides[place.pk] == "harmed":
            person = place if place.role == Role.HARMED_PARTY else snap.place(place.supports_id)
            if person is not None and person not in represented:
                represented.append(person)
    return represented


def meeting_items(snap: Snapshot, attendees: list[Participant], *, check_stage: bool = True) -> list[Missing]:
    """What stands between these people and a meeting now, each item with whom it concerns. A meeting with
    people from both sides is contact between the parties, and needs everything the encounter needs and
    the person harmed's choice to meet; supporters and community members come only as each person harmed
    the meeting concerns allowed."""
    snap.require_complete("meeting_missing")
    case = snap.case
    items: list[Missing] = []

    def about(place: Participant, texts: list[str]) -> None:
        items.extend(Missing(text, frozenset({place.pk})) for text in texts)

    if check_stage and case.stage in ("paused", "closed", "referral"):
        items.append(
            Missing(
                _("the case to be active (it is at the %(stage)s stage)")
                % {"stage": case.get_stage_display().lower()}
            )
        )
    if not any(p.role in FACILITATING_ROLES for p in attendees):
        items.append(Missing(_("a facilitator among the people attending")))
    sides = {p.pk: side_of(snap, p) for p in attendees}
    contact = "harmed" in sides.values() and "responsible" in sides.values()
    represented = _represented(snap, attendees, sides)
    for place in attendees:
        if place.role in FACILITATING_ROLES:
            continue
        if not place.has_joined:
            about(place, [_("the %(name)s to join the case") % {"name": name_of(snap, place)}])
            continue
        modes = {"direct"} if contact and place.role in PARTY_ROLES else set()
        about(place, presence_missing(snap, place, modes))
        if place.role in PARTY_ROLES and "facilitator_contact" not in snap.scopes_of(place):
            about(
                place,
                [
                    _("consent of the %(name)s to be contacted by the facilitator")
                    % {"name": name_of(snap, place)}
                ],
            )
    if contact:
        for person in represented:
            # The person harmed's side: themselves and the supporters who came for them.
            theirs = frozenset(
                p.pk
                for p in attendees
                if p == person or (p.role == Role.SUPPORTER and p.supports_id == person.pk)
            )
            mode = snap.choices_of(person).mode
            if mode == "indirect":
                text = _(
                    "a meeting that fits the choice of the %(name)s: "
                    "they chose to communicate through the facilitator"
                ) % {"name": name_of(snap, person)}
                room_text = _("a meeting that fits the choice of the %(name)s") % {
                    "name": name_of(snap, person)
                }
                items.append(Missing(text, theirs, room_text))
            elif mode == "undecided":
                text = _("the %(name)s to choose how to take part") % {"name": name_of(snap, person)}
                items.append(Missing(text, theirs))
            if person not in attendees:
                items.extend(Missing(text, theirs) for text in presence_missing(snap, person, {"direct"}))
        people = [p for p in attendees if p.role in PARTY_ROLES] + [
            p for p in represented if p not in attendees
        ]
        items.extend(Missing(text) for text in preparation_missing(snap, people) + conflict_missing(snap))
    for place in attendees:
        if place.role == Role.SUPPORTER and place.supports_id:
            supported = snap.place(place.supports_id)
            if supported is not None and "supporters_present" not in snap.scopes_of(supported):
                about(
                    place,
                    [
                        _("consent of the %(name)s to have supporters present")
                        % {"name": name_of(snap, supported)}
                    ],
                )
        if place.role in (Role.SUPPORTER, Role.COMMUNITY_MEMBER):
            for person_harmed in represented:
                if place.supports_id == person_harmed.pk and place.role == Role.SUPPORTER:
                    allowed = snap.choices_of(person_harmed).supporters_may_attend
                elif place.role == Role.SUPPORTER:
                    allowed = contact and snap.choices_of(person_harmed).supporters_may_attend
                else:
                    allowed = snap.choices_of(person_harmed).community_may_attend
                if not allowed:
                    about(
                        place,
                        [
                            _("the %(harmed)s to allow the %(name)s to attend")
                            % {"harmed": name_of(snap, person_harmed), "name": name_of(snap, place)}
                        ],
                    )
    return items


def meeting_missing(snap: Snapshot, attendees: list[Participant], *, check_stage: bool = True) -> list[str]:
    """What stands between these people and a meeting now (meeting_items), in words: scheduling's question."""
    return _unique(item.text for item in meeting_items(snap, attendees, check_stage=check_stage))


# --- the video room: person by person -----------------------------------------------------------------------


def room_missing(snap: Snapshot, invited: set[int], place: Participant) -> list[str]:
    """What stands between this person and a case meeting's room now, about them alone: the items of
    meeting_items that concern them, for the people in the room. Each person must first hold alone with
    the facilitators (joined, consent to take part and to be contacted, not on a break; a supporter only as
    the person they came for allowed); then the meeting of everyone who holds is asked as scheduling asks
    it, and whoever something concerns leaves, until nobody else does. A break or withdrawal removes that
    person, not the meeting; and nobody is in a room that could not have been scheduled for them."""
    present = [p for p in snap.places if p.pk in invited]
    me = next((p for p in present if p.pk == place.pk), None)
    if me is None:
        return [_("an invitation to this meeting")]
    if me.role in FACILITATING_ROLES:
        return []
    facilitators = [p for p in present if p.role in FACILITATING_ROLES]

    def alone(p: Participant) -> list[str]:
        return _in_room(meeting_items(snap, [*facilitators, p], check_stage=False), p)

    holding = [p for p in present if p in facilitators or not alone(p)]
    if me not in holding:
        return alone(me)
    while True:  # repeat until nobody else leaves
        items = meeting_items(snap, holding, check_stage=False)
        reasons = {p.pk: _in_room(items, p) for p in holding if p not in facilitators}
        leaving = {pk for pk, texts in reasons.items() if texts}
        if me.pk in leaving:
            return reasons[me.pk]
        if not leaving:
            return []
        holding = [p for p in holding if p.pk not in leaving]


def _in_room(items: list[Missing], place: Participant) -> list[str]:
    """The items that concern this person, in the room's words."""
    return _unique(item.in_room or item.text for item in items if item.about(place))


# --- the dialogue -------------------------------------------------------------------------------------------


def direct_chosen(snap: Snapshot, harmed: list[Participant] | None = None) -> bool:
    """Every one of these people harmed (all on their path when None) chooses direct contact, and there is
    at least one."""
    if harmed is None:
        harmed = [p for p in parties(snap) if p.user_id and p.role == Role.HARMED_PARTY]
    return bool(harmed) and all(snap.choices_of(p).mode == "direct" for p in harmed)


def contact_missing(snap: Snapshot, *, mode: str, between: list[Participant] | None = None) -> list[str]:
    """What stands between the parties and contact in this mode: the stage, and for the people `between`
    (everyone on their path when None) their presence, preparation and the choice of each person harmed.
    Contact between some people goes on while others are on a break, stopped or excluded."""
    case = snap.case
    missing = []
    if case.stage == "paused":
        missing.append(_("the case to resume from its pause"))
    elif case.stage == "closed":
        missing.append(_("the case to be open"))
    elif case.stage not in CONTACT_STAGES:
        missing.append(_("the case to reach the encounter stage"))
    if between is None:
        missing += encounter_missing(snap)
        people = parties(snap)
    else:
        snap.require_complete("contact_missing")
        people = [p for p in between if p.role in PARTY_ROLES]
        missing += facilitator_missing(snap)
        for place in people:
            missing += presence_missing(snap, place, {mode})
        missing += preparation_missing(snap, people) + conflict_missing(snap)
    for place in people:
        if place.user_id and place.role == Role.HARMED_PARTY and snap.choices_of(place).mode != mode:
            missing.append(
                _("the %(name)s to choose an exchange through the facilitator")
                % {"name": name_of(snap, place)}
                if mode == "indirect"
                else _("the %(name)s to choose to meet directly") % {"name": name_of(snap, place)}
            )
    return _unique(missing)


def facilitator_contact_missing(snap: Snapshot, place: Participant | None) -> list[str]:
    """What stands between a facilitator and writing to this one person (their support conversation)."""
    if place is None:
        return [_("the person to be in the case")]
    missing = []
    if snap.case.stage == "closed":
        missing.append(_("the case to be open"))
    scopes = snap.scopes_of(place)
    if "take_part" not in scopes:
        missing.append(_("consent to take part from the %(name)s") % {"name": name_of(snap, place)})
    if "facilitator_contact" not in scopes:
        missing.append(
            _("consent of the %(name)s to be contacted by the facilitator") % {"name": name_of(snap, place)}
        )
    return missing
