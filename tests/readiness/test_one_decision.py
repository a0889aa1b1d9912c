"""One decision, wherever it is asked. For generated cases (each person harmed's mode and whom they allow,
consents given and withdrawn scope by scope, breaks, assessments, acknowledgments, safety plans, conflict
declarations, the case's stage, who is in the case) and generated attendees (several people on each side,
supporters of either side, a community member, a person who has left and one who has not yet joined),
scheduling (its service), the video room (who is admitted), the stage table (the encounter guard and the
resume guard, through the stage service) and dialogue contact (the writing rules) reach the same decision
where they ask the same question.

Each example is built on one prepared case by writing its records directly, inside a transaction that is
rolled back at the end: the cast and its preparation are built once per test, not once per example.

Scheduling and the room answer alike for the same attendees, without exception: the room admits everyone
invited exactly when the meeting could be scheduled for them (a person who has left is no longer counted).
"""

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from mend import builders
from mend.assessments.models import Acknowledgment, Assessment, ConflictDeclaration, SafetyPlan
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.consent.models import Consent, HarmedPartyChoices
from mend.consent.selectors import current_text
from mend.core.errors import DomainError
from mend.dialogue import rules as dialogue
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Conversation
from mend.meetings import rules as room
from mend.meetings import scheduling
from mend.meetings.models import Meeting
from tests.builders import CAST_READINESS, facilitator_place, join

pytestmark = pytest.mark.django_db

# Wren and Hazel are harmed, Kestrel and Tui responsible; Alder supports Wren, Puriri supports Kestrel;
# Rowan is a community member; Moa, a community member, has left the case; Kowhai is invited and has not
# joined yet. Hazel, Tui, Puriri and Kowhai are in the case only in some examples.
HARMED = ("harmed", "hazel")
RESPONSIBLE = ("responsible", "tui")
PARTIES = HARMED + RESPONSIBLE
JOINED = (*PARTIES, "supporter", "puriri", "community", "left")
OPTIONAL = ("hazel", "tui", "puriri", "pending")
PEOPLE = (*JOINED, "pending")
SCOPES = ("take_part", "facilitator_contact", "direct_meeting", "indirect_exchange", "supporters_present")
STAGES = ("preparation", "encounter", "agreement", "follow_up", "paused", "closed", "referral")
INACTIVE = ("paused", "closed", "referral")  # no meeting is scheduled at these stages
CONTACT = ("encounter", "agreement", "follow_up")  # the parties may be in contact at these stages
mostly = st.sampled_from([True] * 5 + [False])  # a case mostly ready, so that both answers come up


class _Undo(Exception):
    """Raised at the end of a block whose writes must not stay."""


def attempt(call) -> tuple[bool, str]:
    """Whether a service accepts, with its refusal's words; whatever it wrote is rolled back."""
    try:
        with transaction.atomic():
            call()
            raise _Undo
    except _Undo:
        return True, ""
    except DomainError as refusal:
        return False, str(refusal.message)


@dataclass
class World:
    case: Case
    places: dict[str, Participant]
    facilitator: Participant
    meeting: Meeting
    relay: Conversation
    direct: Conversation


@pytest.fixture
def world(cast) -> World:
    case, facilitator = cast.case, cast.facilitator
    hazel = join(actor=facilitator, case=case, role=Role.HARMED_PARTY, pseudonym="Hazel")
    tui = join(actor=facilitator, case=case, role=Role.RESPONSIBLE_PARTY, pseudonym="Tui")
    builders.prepare(
        case,
        facilitator=facilitator,
        harmed=[cast.harmed, hazel],
        responsible=[cast.responsible, tui],
        readiness=replace(CAST_READINESS, mode="direct"),
    )
    invitation, _raw = case_services.participant_invite(
        actor=facilitator, case=case, role=Role.COMMUNITY_MEMBER
    )
    places = {
        "harmed": cast.harmed,
        "responsible": cast.responsible,
        "supporter": cast.supporter,
        "hazel": hazel,
        "tui": tui,
        "puriri": join(
            actor=facilitator, case=case, role=Role.SUPPORTER, pseudonym="Puriri", supports=cast.responsible
        ),
        "community": join(actor=facilitator, case=case, role=Role.COMMUNITY_MEMBER, pseudonym="Rowan"),
        "left": join(actor=facilitator, case=case, role=Role.COMMUNITY_MEMBER, pseudonym="Moa"),
        "pending": invitation.participant,
    }
    for scope in SCOPES:  # every text is there to consent to
        assert current_text(cast.program, scope) is not None
    now = timezone.now()
    meeting = Meeting.objects.create(
        case=case,
        kind="dialogue",
        format="video",
        starts_at=now - timedelta(minutes=5),
        time_zone="Pacific/Auckland",
        duration_minutes=120,
        opened_at=now - timedelta(minutes=5),
        created_by=facilitator,
    )
    return World(
        case=case,
        places=places,
        facilitator=facilitator_place(case, facilitator),
        meeting=meeting,
        relay=dialogue_services.conversation_open(case=case, kind="relay", party=cast.responsible),
        # Wren's and Kestrel's own direct conversation (one per pair since issue 16).
        direct=dialogue_services.conversation_open(
            case=case, kind="direct", party=cast.harmed, counterpart=cast.responsible
        ),
    )


modes = st.sampled_from(["direct", "direct", "indirect", "indirect", "undecided"])
# A person harmed's mode, and whether they allow supporters and community members to attend.
choices = st.tuples(modes, st.booleans(), st.booleans())

varied = st.fixed_dictionaries(
    {
        "stage": st.sampled_from(STAGES),
        "in_case": st.sets(st.sampled_from(OPTIONAL)),
        "choices": st.fixed_dictionaries({"harmed": choices, "hazel": choices}),
        # Departures from "everyone gave every consent": (person, scope, withdrawn or never given).
        "consents": st.lists(
            st.tuples(
                st.sampled_from(JOINED), st.sampled_from(SCOPES), st.sampled_from(["withdrawn", "never"])
            ),
            max_size=3,
        ),
        "on_break": st.sets(st.sampled_from(JOINED), max_size=2),
        "ready": st.fixed_dictionaries({who: mostly for who in PARTIES}),  # the assessments' outcomes
        "acknowledgment": st.sampled_from(["confirmed", "confirmed", "submitted", "none"]),
        "safety_plan": mostly,
        "declared": st.sampled_from(["no conflict"] * 4 + ["none", "a conflict"]),
        "attendees": st.sets(st.sampled_from(PEOPLE), min_size=1, max_size=5),
    }
)


def prepared(example: dict) -> dict:
    """The same example with every party's preparation in place: the encounter's answer then turns on the
    modes, the stage and the people attending."""
    return {
        **example,
        "consents": [c for c in example["consents"] if c[0] not in PARTIES],
        "on_break": frozenset(),
        "ready": dict.fromkeys(PARTIES, True),
        "acknowledgment": "confirmed",
        "safety_plan": True,
        "declared": "no conflict",
    }


cases = st.one_of(varied, varied.map(prepared))


def ready_with(*, attendees: set[str], in_case=(), wren=("direct", True, True)) -> dict:
    """A case ready for its encounter, at the encounter stage, with these attendees (the two cases where the
    room used to let in someone scheduling refused: a community member or another person harmed's supporter
    at a meeting of the harmed side only, which the person harmed had not allowed)."""
    return prepared(
        {
            "stage": "encounter",
            "in_case": set(in_case),
            "choices": {"harmed": wren, "hazel": ("direct", True, True)},
            "consents": [],
            "attendees": attendees,
        }
    )


def in_case(example: dict) -> set[str]:
    """Who holds a place in the case in this example (Moa has left; the optional people may be there)."""
    return {who for who in PEOPLE if who not in OPTIONAL and who != "left"} | set(example["in_case"])


def build(world: World, example: dict) -> None:
    """The example's records, written over the prepared case."""
    case, places, now = world.case, world.places, timezone.now()
    Case.objects.filter(pk=case.pk).update(stage=example["stage"], paused_from="encounter")
    here = in_case(example)
    Participant.objects.filter(pk__in=[p.pk for p in places.values()]).update(removed_at=None, paused_at=None)
    Participant.objects.filter(pk__in=[p.pk for who, p in places.items() if who not in here]).update(
        removed_at=now
    )
    Participant.objects.filter(pk__in=[places[who].pk for who in example["on_break"]]).update(paused_at=now)
    for who in HARMED:
        mode, supporters, community = example["choices"][who]
        HarmedPartyChoices.objects.update_or_create(
            participant=places[who],
            defaults={"mode": mode, "supporters_may_attend": supporters, "community_may_attend": community},
        )
    Consent.objects.filter(participant__case=case).delete()
    departures = {(who, scope): how for who, scope, how in example["consents"]}
    texts = {scope: current_text(case.program, scope) for scope in SCOPES}
    Consent.objects.bulk_create(
        Consent(
            participant=places[who],
            scope=scope,
            text=texts[scope],
            text_sha256=texts[scope].sha256,
            given_at=now - timedelta(days=1),
            withdrawn_at=now if departures.get((who, scope)) == "withdrawn" else None,
        )
        for who in JOINED
        for scope in SCOPES
        if departures.get((who, scope)) != "never"
    )
    for who in PARTIES:
        outcome = "ready" if example["ready"][who] else "not_ready"
        Assessment.objects.filter(participant=places[who]).update(outcome=outcome)
    responsible = places["responsible"]
    if example["acknowledgment"] == "none":
        Acknowledgment.objects.filter(participant=responsible).delete()
    elif example["acknowledgment"] == "submitted":
        Acknowledgment.objects.filter(participant=responsible).update(confirmed_at=None, confirmed_by=None)
    if not example["safety_plan"]:
        SafetyPlan.objects.filter(participant=places["harmed"]).delete()
    if example["declared"] == "none":
        ConflictDeclaration.objects.filter(case=case).delete()
    elif example["declared"] == "a conflict":
        ConflictDeclaration.objects.filter(case=case).update(has_conflict=True)
    world.meeting.attendees.set([world.facilitator, *(places[who] for who in example["attendees"])])


@dataclass
class Decisions:
    scheduled: tuple[bool, str]
    admitted: dict[str, list[str]]  # what keeps each person counted in the room out of it
    not_counted: dict[str, list[str]]  # the same for the attendees who have left the case
    encounter: tuple[bool, str]
    resume: tuple[bool, str]
    relay: bool
    direct: bool


def decide(world: World, example: dict) -> Decisions:
    """Each caller's answer, asked the way it asks it."""
    case = Case.objects.select_related("program").get(pk=world.case.pk)
    here = in_case(example)
    counted = sorted(example["attendees"] & here)  # the attendees as the room counts them
    attendees = [world.facilitator, *(world.places[who] for who in counted)]
    scheduled = attempt(
        lambda: scheduling.meeting_schedule(
            actor=world.facilitator.user,
            case=case,
            kind="dialogue",
            format="video",
            starts_at=timezone.now() + timedelta(days=2),
            time_zone="Pacific/Auckland",
            attendees=attendees,
        )
    )

    def missing(who: str) -> list[str]:
        return room.person_missing(world.meeting, Participant.objects.get(pk=world.places[who].pk))

    admitted = {who: missing(who) for who in counted}
    not_counted = {who: missing(who) for who in example["attendees"] - here}

    def begin():  # the stage table's question, asked of the same records from the preparation stage
        Case.objects.filter(pk=case.pk).update(stage="preparation", paused_from="")
        case_services.case_transition(actor=world.facilitator.user, case=case, action="begin_encounter")

    def resume():  # the resume guard alone, asked of the same records from a pause in the agreement stage
        Case.objects.filter(pk=case.pk).update(stage="paused", paused_from="agreement")
        case_services.case_transition(actor=world.facilitator.user, case=case, action="resume")

    encounter = attempt(begin)
    resumed = attempt(resume)
    fresh = Case.objects.select_related("program").get(pk=case.pk)
    relay = Conversation.objects.select_related("case__program", "party").get(pk=world.relay.pk)
    relay.case = fresh
    direct = Conversation.objects.select_related("case__program", "party").get(pk=world.direct.pk)
    direct.case = fresh
    responsible = dialogue.place_of(relay, world.places["responsible"].user)
    facilitator = dialogue.place_of(direct, world.facilitator.user)
    return Decisions(
        scheduled=scheduled,
        admitted=admitted,
        not_counted=not_counted,
        encounter=encounter,
        resume=resumed,
        relay=not dialogue.writing_missing(relay, responsible, "for_relay"),
        direct=not dialogue.writing_missing(direct, facilitator, "message"),
    )


def decided(world: World, example: dict) -> Decisions:
    try:
        with transaction.atomic():
            build(world, example)
            decisions = decide(world, example)
            raise _Undo
    except _Undo:
        return decisions


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],  # no slow explain
)
@given(example=cases)
@example(example=ready_with(attendees={"harmed", "community"}, wren=("direct", True, False)))
@example(example=ready_with(attendees={"harmed", "supporter", "hazel"}, in_case={"hazel"}))
def test_inv_voluntary_scheduling_the_room_the_stage_table_and_the_dialogue_decide_alike(world, example):
    decisions = decided(world, example)
    stage, here = example["stage"], in_case(example)
    harmed_modes = {example["choices"][who][0] for who in HARMED if who in here}
    everyone_in = all(items == [] for items in decisions.admitted.values())
    encounter_ok = decisions.encounter[0]
    for name, answer in [
        ("scheduled", decisions.scheduled[0]),
        ("encounter", encounter_ok),
        ("resume", decisions.resume[0]),
        ("direct", decisions.direct),
        ("relay", decisions.relay),
        ("everyone admitted", everyone_in),
        (
            "both sides attend",
            bool({"harmed", "hazel"} & set(decisions.admitted))
            and bool({"responsible", "tui", "puriri"} & set(decisions.admitted)),
        ),
    ]:
        event(f"{name}: {answer}")
    # The dialogue's contact is the encounter's readiness, at a stage of contact, in the mode the people
    # harmed chose. With one person on each side, Wren's and Kestrel's direct conversation is the case's.
    in_contact = stage in CONTACT
    alone = not here & {"hazel", "tui"}
    if alone:
        assert decisions.direct == (in_contact and encounter_ok and harmed_modes == {"direct"}), decisions
    # With more people, it turns on the pair: never outside the stages of contact or without Wren's choice.
    if decisions.direct:
        assert in_contact and example["choices"]["harmed"][0] == "direct", decisions
    # The exchange through the facilitator: open to Kestrel whenever the encounter could begin with everyone
    # harmed choosing it and Kestrel on his path (the encounter then holds his records too); never outside
    # the stages of contact, nor when nobody harmed chose it.
    stopped = {who for who, scope, how in example["consents"] if scope == "take_part" and how == "withdrawn"}
    off_path = example["on_break"] | stopped
    if in_contact and encounter_ok and harmed_modes == {"indirect"} and "responsible" not in off_path:
        assert decisions.relay, decisions
    if decisions.relay:
        assert in_contact and "indirect" in harmed_modes, decisions
    # The resume guard: someone on each side on their own path. A party on a break or who withdrew from
    # taking part is off their path; one who never consented to take part is not (they may still).
    side_empty = any(all(who in off_path for who in side if who in here) for side in (HARMED, RESPONSIBLE))
    assert decisions.resume[0] == (not side_empty), decisions
    # Scheduling a meeting and everyone it counts being let into its room are one decision (a case that is
    # not active schedules nothing, and its open room is judged person by person). Whoever has left the
    # case is not counted, and is not let in.
    assert decisions.scheduled[0] == (stage not in INACTIVE and everyone_in), decisions
    assert all(items == ["an invitation to this meeting"] for items in decisions.not_counted.values())
    # A meeting of both parties is contact: scheduled only when the encounter could begin, directly.
    if (
        {"harmed", "responsible"} <= example["attendees"]
        and decisions.scheduled[0]
        and not here & {"hazel", "tui"}
    ):
        assert encounter_ok and harmed_modes == {"direct"}, decisions
    if example["attendees"] == {"harmed", "responsible"} and in_contact and not here & {"hazel", "tui"}:
        contact_consents = all(
            (who, "facilitator_contact") not in {(w, s) for w, s, _how in example["consents"]}
            for who in ("harmed", "responsible")
        )
        assert decisions.scheduled[0] == (decisions.direct and contact_consents), decisions


def test_inv_survivor_centered_the_room_keeps_out_a_community_member_the_person_harmed_did_not_allow(world):
    """Only the harmed side attends, with a community member whom the person harmed did not allow: scheduling
    refuses the meeting, and the room now refuses the community member (it used to let them in, asking the
    person harmed's leave only when both sides were in the room)."""
    decisions = decided(world, ready_with(attendees={"harmed", "community"}, wren=("direct", True, False)))
    assert decisions.scheduled == (
        False,
        "Waiting for: the person harmed (Wren) to allow the community member (Rowan) to attend.",
    )
    assert decisions.admitted == {
        "harmed": [],
        "community": ["the person harmed (Wren) to allow the community member (Rowan) to attend"],
    }


def test_inv_survivor_centered_the_room_keeps_out_a_supporter_of_another_person_harmed(world):
    """Two people harmed and the supporter of one of them, nobody from the responsible side: scheduling
    refuses the supporter for the other person harmed, and so does the room now (it used to let them in)."""
    decisions = decided(world, ready_with(attendees={"harmed", "supporter", "hazel"}, in_case={"hazel"}))
    assert decisions.scheduled == (
        False,
        "Waiting for: the person harmed (Hazel) to allow the supporter (Alder) to attend.",
    )
    assert decisions.admitted == {
        "harmed": [],
        "hazel": [],
        "supporter": ["the person harmed (Hazel) to allow the supporter (Alder) to attend"],
    }
