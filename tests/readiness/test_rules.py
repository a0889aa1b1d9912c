"""The readiness rules over hand-made snapshots: no database, only what each rule is given."""

from datetime import UTC, datetime
from types import MappingProxyType

from mend.accounts.models import Program, User
from mend.cases.models import Case, Participant, Role
from mend.consent.models import HarmedPartyChoices
from mend.readiness import rules
from mend.readiness.snapshot import Snapshot

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
EVERYTHING = frozenset(
    {"take_part", "facilitator_contact", "direct_meeting", "indirect_exchange", "supporters_present"}
)


def people():
    fen = User(pk=1, display_name="Fen Facilitator")
    return {
        "facilitator": Participant(pk=1, role=Role.FACILITATOR, user=fen, joined_at=NOW),
        "harmed": Participant(pk=2, role=Role.HARMED_PARTY, pseudonym="Wren", joined_at=NOW, user_id=2),
        "responsible": Participant(
            pk=3, role=Role.RESPONSIBLE_PARTY, pseudonym="Kestrel", joined_at=NOW, user_id=3
        ),
        "supporter": Participant(
            pk=4, role=Role.SUPPORTER, pseudonym="Alder", joined_at=NOW, supports_id=2, user_id=4
        ),
        "community": Participant(
            pk=5, role=Role.COMMUNITY_MEMBER, pseudonym="Rowan", joined_at=NOW, user_id=5
        ),
    }


def snapshot(
    places,
    *,
    stage="preparation",
    scopes=None,
    mode="direct",
    supporters=True,
    community=True,
    outcome="ready",
    acknowledgment="confirmed",
    plan=True,
    undeclared=(),
    consented=None,
    took_part=None,
):
    program = Program(name="Riverbend", slug="riverbend", role_words={})
    case = Case(program=program, stage=stage)
    ids = [p.pk for p in places.values()]
    harmed = places["harmed"]
    choices = HarmedPartyChoices(
        participant_id=harmed.pk, mode=mode, supporters_may_attend=supporters, community_may_attend=community
    )
    return Snapshot(
        case=case,
        places=tuple(places.values()),
        scopes=MappingProxyType(scopes if scopes is not None else {pk: EVERYTHING for pk in ids}),
        consented=frozenset(ids if consented is None else consented),
        took_part=frozenset(ids if took_part is None else took_part),
        choices=MappingProxyType({harmed.pk: choices}),
        outcomes=MappingProxyType({pk: outcome for pk in (2, 3)}),
        acknowledgments=MappingProxyType({3: acknowledgment} if acknowledgment != "none" else {}),
        plans=frozenset({2} if plan else set()),
        undeclared=tuple(undeclared),
        complete=True,
    )


def test_it_finds_nothing_missing_for_a_prepared_case():
    snap = snapshot(people())
    assert rules.encounter_missing(snap) == []
    assert (
        rules.facilitator_missing(snap) == rules.parties_missing(snap) == rules.each_side_missing(snap) == []
    )
    assert rules.guards_missing(snap, tuple(rules.GUARDS)) == []


def test_it_names_people_by_their_word_and_pseudonym_and_their_side():
    places = people()
    snap = snapshot(places)
    assert rules.name_of(snap, places["harmed"]) == "person harmed (Wren)"
    assert rules.side_of(snap, places["supporter"]) == "harmed"
    assert rules.side_of(snap, places["responsible"]) == "responsible"
    assert rules.side_of(snap, places["community"]) == rules.side_of(snap, places["facilitator"]) == ""


def test_it_lists_what_the_encounter_misses_in_the_old_order():
    places = people()
    places["responsible"].paused_at = NOW
    scopes = {pk: EVERYTHING for pk in range(1, 6)}
    scopes[2] = frozenset({"take_part"})
    snap = snapshot(
        places, scopes=scopes, acknowledgment="submitted", plan=False, undeclared=[places["facilitator"].user]
    )
    assert rules.encounter_missing(snap) == [
        # Kestrel's break takes him off his path: nothing of his is waited for, but his side is empty.
        "at least one person responsible taking part",
        "consent of the person harmed (Wren) to meet directly",
        "safety plan for the person harmed (Wren)",
        "a conflict-of-interest declaration by Fen Facilitator",
    ]


def test_it_asks_an_undecided_person_harmed_to_choose():
    snap = snapshot(people(), mode="undecided")
    assert rules.encounter_missing(snap) == ["the person harmed (Wren) to choose how to take part"]
    assert rules.chosen_modes(snap) == (set(), ["the person harmed (Wren) to choose how to take part"])


def test_it_resumes_while_someone_on_each_side_is_on_their_path():
    """The resume guard asks for someone on each side on their own path: a person who never consented to
    take part is not held against it (they may still), one who withdrew is, when nobody else is left."""
    never = snapshot(people(), scopes={}, consented=[], took_part=[])
    assert rules.each_side_missing(never) == []
    withdrew = snapshot(people(), scopes={}, consented=[2], took_part=[2])
    assert rules.each_side_missing(withdrew) == ["at least one person harmed taking part"]
    places = people()
    places["responsible"].paused_at = NOW
    assert rules.each_side_missing(snapshot(places)) == ["at least one person responsible taking part"]
    places["second"] = Participant(
        pk=6, role=Role.RESPONSIBLE_PARTY, pseudonym="Tui", joined_at=NOW, user_id=6
    )
    assert rules.each_side_missing(snapshot(places)) == []


def test_it_needs_a_facilitator_and_both_parties():
    places = people()
    alone = {"harmed": places["harmed"]}
    snap = snapshot(alone)
    assert rules.facilitator_missing(snap) == ["a facilitator assigned to the case"]
    assert rules.parties_missing(snap) == ["an invitation for the person responsible"]


def test_a_meeting_of_both_sides_needs_the_choice_to_meet():
    places = people()
    both = [places["facilitator"], places["harmed"], places["responsible"]]
    assert rules.meeting_missing(snapshot(places), both) == []
    assert rules.meeting_missing(snapshot(places, mode="indirect"), both) == [
        "a meeting that fits the choice of the person harmed (Wren): they chose to communicate through the "
        "facilitator"
    ]
    assert rules.meeting_missing(snapshot(places, stage="paused"), both) == [
        "the case to be active (it is at the paused stage)"
    ]
    assert rules.meeting_missing(snapshot(places, stage="paused"), both, check_stage=False) == []


def test_a_meeting_with_one_side_needs_no_preparation_but_the_person_harmeds_leave_for_others():
    places = people()
    one_side = [places["facilitator"], places["harmed"], places["community"]]
    snap = snapshot(places, outcome="not_ready", community=False)
    assert rules.meeting_missing(snap, one_side) == [
        "the person harmed (Wren) to allow the community member (Rowan) to attend"
    ]
    assert rules.meeting_missing(snap, [places["harmed"]]) == ["a facilitator among the people attending"]


def test_contact_in_the_dialogue_needs_the_stage_the_encounter_and_the_choice():
    places = people()
    assert rules.contact_missing(snapshot(places, stage="encounter"), mode="direct") == []
    assert rules.contact_missing(snapshot(places, stage="encounter"), mode="indirect") == [
        "the person harmed (Wren) to choose an exchange through the facilitator"
    ]
    assert rules.contact_missing(snapshot(places, stage="paused"), mode="direct") == [
        "the case to resume from its pause"
    ]
    assert rules.contact_missing(snapshot(places), mode="direct") == ["the case to reach the encounter stage"]


def test_the_facilitator_may_write_to_a_person_only_with_their_consent():
    places = people()
    assert rules.facilitator_contact_missing(snapshot(places), places["harmed"]) == []
    # Each refusal names the exact consent missing: taking part and being contacted are two consents.
    assert rules.facilitator_contact_missing(snapshot(places, scopes={}), places["harmed"]) == [
        "consent to take part from the person harmed (Wren)",
        "consent of the person harmed (Wren) to be contacted by the facilitator",
    ]
    stopped = {pk: EVERYTHING - {"take_part"} for pk in range(1, 6)}
    assert rules.facilitator_contact_missing(snapshot(places, scopes=stopped), places["harmed"]) == [
        "consent to take part from the person harmed (Wren)"
    ]
    not_contacted = {pk: EVERYTHING - {"facilitator_contact"} for pk in range(1, 6)}
    assert rules.facilitator_contact_missing(snapshot(places, scopes=not_contacted), places["harmed"]) == [
        "consent of the person harmed (Wren) to be contacted by the facilitator"
    ]
    assert rules.facilitator_contact_missing(snapshot(places), None) == ["the person to be in the case"]


def test_the_room_lets_whoever_holds_stay_and_sends_away_whoever_does_not():
    places = people()
    everyone = {p.pk for p in places.values()}
    snap = snapshot(places)
    assert all(rules.room_missing(snap, everyone, p) == [] for p in places.values())
    on_break = people()
    on_break["harmed"].paused_at = NOW
    snap = snapshot(on_break)
    assert rules.room_missing(snap, everyone, on_break["harmed"]) == [
        "the person harmed (Wren) to come back from their break"
    ]
    # The supporter came for the person harmed, who is away: they leave too; the person responsible stays.
    assert rules.room_missing(snap, everyone, on_break["supporter"]) != []
    assert rules.room_missing(snap, everyone, on_break["responsible"]) == []
    assert rules.room_missing(snap, {1, 3}, on_break["harmed"]) == ["an invitation to this meeting"]


def test_the_room_asks_the_person_harmed_s_leave_for_a_community_member_whichever_side_attends():
    """The room admits a person only when the meeting, asked as scheduling asks it, has nothing about them:
    a community member the person harmed did not allow stays out of a meeting of the harmed side only."""
    places = people()
    snap = snapshot(places, community=False)
    harmed_side = {1, 2, 5}  # the facilitator, Wren and Rowan: nobody from the responsible side
    refusal = "the person harmed (Wren) to allow the community member (Rowan) to attend"
    attending = [places["facilitator"], places["harmed"], places["community"]]
    assert rules.meeting_missing(snap, attending) == [refusal]
    assert rules.room_missing(snap, harmed_side, places["community"]) == [refusal]
    assert rules.room_missing(snap, harmed_side, places["harmed"]) == []


def test_direct_contact_is_chosen_only_by_every_person_harmed():
    assert rules.direct_chosen(snapshot(people()))
    assert not rules.direct_chosen(snapshot(people(), mode="indirect"))


def test_each_person_has_their_own_standing_and_only_those_on_their_path_count():
    places = people()
    places["second"] = Participant(pk=6, role=Role.HARMED_PARTY, pseudonym="Hazel", joined_at=NOW, user_id=6)
    places["third"] = Participant(pk=7, role=Role.HARMED_PARTY, pseudonym="Kiwi", joined_at=NOW, user_id=7)
    places["invited"] = Participant(pk=8, role=Role.HARMED_PARTY)
    places["second"].paused_at = NOW
    places["third"].excluded_at = NOW
    places["third"].paused_at = NOW  # an exclusion says more than a break
    scopes = {pk: EVERYTHING for pk in range(1, 9)}
    scopes[2] = EVERYTHING - {"take_part"}  # Wren withdrew from taking part
    snap = snapshot(places, scopes=scopes, took_part=[2, 3, 6, 7])
    standing = {name: rules.standing_of(snap, p) for name, p in places.items()}
    assert standing == {
        "facilitator": rules.TAKING_PART,
        "harmed": rules.STOPPED,
        "responsible": rules.TAKING_PART,
        "supporter": rules.TAKING_PART,
        "community": rules.TAKING_PART,
        "second": rules.ON_BREAK,
        "third": rules.EXCLUDED,
        "invited": rules.INVITED,
    }
    assert [p.pk for p in rules.parties(snap)] == [3]
    assert [p.pk for p in rules.all_parties(snap)] == [2, 3, 6, 7]
    assert [p.pk for p in rules.left_out(snap)] == [2, 6, 7]
    # The invited person harmed may still join: the harmed side is not empty.
    assert rules.sides_missing(snap) == []
    del places["invited"]
    assert rules.sides_missing(snapshot(places, scopes=scopes, took_part=[2, 3, 6, 7])) == [
        "at least one person harmed taking part"
    ]
    closed = snapshot(places, scopes=scopes, took_part=[2, 3, 6, 7], stage="closed")
    assert {rules.standing_of(closed, p) for p in places.values()} == {rules.FINISHED}


def test_inv_privacy_only_those_who_may_see_a_person_hear_that_one_person_stepped_back():
    places = people()
    places["second"] = Participant(pk=6, role=Role.HARMED_PARTY, pseudonym="Hazel", joined_at=NOW, user_id=6)
    places["third"] = Participant(pk=7, role=Role.HARMED_PARTY, pseudonym="Kiwi", joined_at=NOW, user_id=7)
    places["harmed"].seen_by_same_side = places["second"].seen_by_same_side = True
    snap = snapshot(places)
    # Wren steps back: Kestrel (the other side) and Hazel (both agreed to see each other) hear; Kiwi does not,
    # nor Wren herself, nor anyone who is not a party.
    assert [p.pk for p in rules.told_of_leaving(snap, places["harmed"])] == [3, 6]
    # Kestrel steps back: every person harmed on their path hears, whatever they chose.
    assert [p.pk for p in rules.told_of_leaving(snap, places["responsible"])] == [2, 6, 7]
    places["third"].paused_at = NOW  # someone off their own path hears nothing new
    assert [p.pk for p in rules.told_of_leaving(snapshot(places), places["responsible"])] == [2, 6]
