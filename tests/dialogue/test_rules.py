"""Who is in each kind of conversation, and who may write which kind of message there, when."""

import uuid

import pytest

from mend.cases import services as case_services
from mend.cases.models import Role
from mend.consent import services as consent_services
from mend.dialogue import rules, services
from mend.dialogue.models import Conversation, Message
from tests.builders import consent, join, prepare_for_encounter

Kind = Conversation.Kind


def opened(cast, kind, party=None) -> Conversation:
    """The conversation as a request would load it, so that no cached reading of the case is reused."""
    made = services.conversation_open(case=cast.case, kind=kind, party=party)
    return Conversation.objects.select_related("case__program", "party").get(pk=made.pk)


def users_of(places) -> set[int]:
    return {p.user_id for p in places}


def missing(conversation, user, kind="message", ref=None) -> list[str]:
    conversation = Conversation.objects.select_related("case__program").get(pk=conversation.pk)
    place = rules.place_of(conversation, user)
    assert place is not None, "the writer must be in the conversation"
    return rules.writing_missing(conversation, place, kind, ref)


def move(cast, *actions):
    for action in actions:
        case_services.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    cast.case.refresh_from_db()


def choose(cast, mode, place=None):
    consent_services.choices_update(
        actor=(place or cast.harmed).user,
        place=place or cast.harmed,
        mode=mode,
        supporters_may_attend=True,
        community_may_attend=False,
        progress_updates="at_end",
    )


def pending_for_relay(conversation, *, approved=True) -> Message:
    """A party's message for the other side as the server keeps it (the rules read only its fields)."""
    conversation.last_seq += 1
    conversation.save(update_fields=["last_seq"])
    return Message.objects.create(
        conversation=conversation,
        seq=conversation.last_seq,
        message_id=str(uuid.uuid4()),
        sender=conversation.party.user,
        sender_key_id="A" * 22,
        kind="for_relay",
        relay_state="pending",
        approved=approved,
        envelope="{}",
    )


@pytest.fixture
def indirect(cast):
    """A case at the encounter stage in which the person harmed chose an exchange through the facilitator."""
    prepare_for_encounter(cast, mode="indirect")
    move(cast, "begin_encounter")
    return cast


@pytest.fixture
def direct(cast):
    prepare_for_encounter(cast, mode="direct")
    move(cast, "begin_encounter")
    return cast


# Who reads each kind of conversation.


def test_it_puts_only_the_party_and_the_case_team_in_a_support_conversation(cast):
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    assert users_of(rules.readers(support)) == {cast.harmed.user_id, cast.facilitator.pk}
    for user in (cast.responsible.user, cast.supporter.user, cast.outsider, cast.coordinator):
        assert rules.place_of(support, user) is None


def test_it_gives_a_supporter_their_own_support_conversation(cast):
    support = opened(cast, Kind.SUPPORT, cast.supporter)
    assert users_of(rules.readers(support)) == {cast.supporter.user_id, cast.facilitator.pk}
    assert rules.place_of(support, cast.harmed.user) is None


def test_it_keeps_the_other_side_out_of_a_relay_conversation(indirect):
    cast = indirect
    relay = opened(cast, Kind.RELAY, cast.responsible)
    assert users_of(rules.readers(relay)) == {cast.responsible.user_id, cast.facilitator.pk}
    assert rules.place_of(relay, cast.harmed.user) is None
    assert rules.place_of(relay, cast.supporter.user) is None


def test_it_keeps_the_team_conversation_to_the_case_facilitators(cast):
    colleague = case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role=Role.CO_FACILITATOR,
    )
    team = opened(cast, Kind.TEAM)
    assert users_of(rules.readers(team)) == {cast.facilitator.pk, colleague.user_id}
    for user in (
        cast.harmed.user,
        cast.responsible.user,
        cast.supporter.user,
        cast.coordinator,
        cast.admin,
        cast.other_program_facilitator,
        cast.outsider,
    ):
        assert rules.place_of(team, user) is None


def test_inv_survivor_centered_the_responsible_party_is_not_even_a_reader_of_direct_until_chosen(indirect):
    cast = indirect
    conversation = opened(cast, Kind.DIRECT)
    assert rules.place_of(conversation, cast.responsible.user) is None
    assert rules.place_of(conversation, cast.harmed.user) is None
    assert users_of(rules.readers(conversation)) == {cast.facilitator.pk}
    kinds = [c.kind for c in services.conversations_open_for(case=cast.case, user=cast.responsible.user)]
    assert kinds == [Kind.SUPPORT, Kind.RELAY]


def test_it_puts_both_parties_in_the_direct_conversation_once_every_harmed_party_chose_direct(direct):
    cast = direct
    conversation = opened(cast, Kind.DIRECT)
    assert users_of(rules.readers(conversation)) == {
        cast.harmed.user_id,
        cast.responsible.user_id,
        cast.facilitator.pk,
    }
    assert rules.place_of(conversation, cast.supporter.user) is None
    kinds = [c.kind for c in services.conversations_open_for(case=cast.case, user=cast.responsible.user)]
    assert kinds == [Kind.SUPPORT, Kind.RELAY, Kind.DIRECT]


def test_inv_survivor_centered_direct_is_per_person_harmed_who_chose_it(cast):
    # Changed on purpose (issue 16): each person harmed who chose direct contact has their own direct
    # conversation with the person responsible; another person harmed's choice neither opens nor closes it.
    choose(cast, "direct")
    second = join(actor=cast.facilitator, case=cast.case, role=Role.HARMED_PARTY, pseudonym="Sorrel")
    first_pair = services.conversation_open(
        case=cast.case, kind=Kind.DIRECT, party=cast.harmed, counterpart=cast.responsible
    )
    second_pair = services.conversation_open(
        case=cast.case, kind=Kind.DIRECT, party=second, counterpart=cast.responsible
    )
    assert rules.place_of(first_pair, cast.responsible.user) is not None
    assert rules.place_of(second_pair, cast.responsible.user) is None
    choose(cast, "indirect", second)
    assert rules.place_of(first_pair, cast.responsible.user) is not None
    assert rules.place_of(second_pair, cast.responsible.user) is None
    choose(cast, "direct", second)
    assert rules.place_of(second_pair, cast.responsible.user) is not None
    assert rules.place_of(first_pair, second.user) is None
    # The shared conversation of both groups has no party in it: nobody agreed to be seen by the others.
    assert rules.place_of(opened(cast, Kind.DIRECT), cast.responsible.user) is None


def test_it_gives_a_facilitator_every_conversation_of_their_case(indirect):
    cast = indirect
    found = services.conversations_open_for(case=cast.case, user=cast.facilitator)
    assert [(c.kind, c.party_id, c.counterpart_id) for c in found] == [
        (Kind.TEAM, None, None),
        (Kind.SUPPORT, cast.harmed.pk, None),
        (Kind.SUPPORT, cast.responsible.pk, None),
        (Kind.SUPPORT, cast.supporter.pk, None),
        (Kind.RELAY, cast.harmed.pk, None),
        (Kind.RELAY, cast.responsible.pk, None),
        # One person on each side: their direct conversation, for the team even before it is chosen.
        (Kind.DIRECT, cast.harmed.pk, cast.responsible.pk),
    ]
    assert services.conversations_open_for(case=cast.case, user=cast.other_program_facilitator) == []
    assert services.conversations_open_for(case=cast.case, user=cast.coordinator) == []


# Support: while the party consents to contact with the facilitator.


def test_it_opens_support_while_the_party_consents_to_facilitator_contact(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    assert missing(support, cast.harmed.user) == []
    assert missing(support, cast.facilitator) == []


def test_it_stops_support_without_consent_to_facilitator_contact(cast):
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    # Each consent missing is named on its own (issue 16): never one message for two consents.
    assert missing(support, cast.facilitator) == [
        "consent to take part from the person harmed (Wren)",
        "consent of the person harmed (Wren) to be contacted by the facilitator",
    ]
    expected = ["consent of the person harmed (Wren) to be contacted by the facilitator"]
    consent(cast.harmed, "take_part", "facilitator_contact")
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="facilitator_contact")
    assert missing(support, cast.facilitator) == expected
    assert missing(support, cast.harmed.user) == expected


def test_it_keeps_support_to_plain_messages(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    for kind in ("for_relay", "relayed", "returned"):
        assert missing(support, cast.facilitator, kind) == [
            "a plain message: relays happen in the exchange through the facilitator"
        ]


def test_it_stops_support_once_the_case_is_closed(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    case_services.case_transition(
        actor=cast.facilitator, case=cast.case, action="close", closure_reason="other"
    )
    assert missing(opened(cast, Kind.SUPPORT, cast.harmed), cast.facilitator) == ["the case to be open"]


# Relay: the party writes for the other side only when contact through the facilitator may happen.


def test_it_lets_a_party_write_for_relay_at_the_encounter_agreement_and_follow_up_stages(indirect):
    cast = indirect
    relay = opened(cast, Kind.RELAY, cast.responsible)
    assert missing(relay, cast.responsible.user, "for_relay") == []
    move(cast, "draft_agreement")
    assert missing(relay, cast.responsible.user, "for_relay") == []
    move(cast, "start_follow_up")
    assert missing(relay, cast.responsible.user, "for_relay") == []
    assert missing(opened(cast, Kind.RELAY, cast.harmed), cast.harmed.user, "for_relay") == []


def test_it_holds_relay_before_the_encounter_stage(cast):
    prepare_for_encounter(cast, mode="indirect")
    relay = opened(cast, Kind.RELAY, cast.responsible)
    assert missing(relay, cast.responsible.user, "for_relay") == ["the case to reach the encounter stage"]


def test_it_holds_relay_while_the_case_is_paused_and_says_so(indirect):
    cast = indirect
    move(cast, "pause")
    relay = opened(cast, Kind.RELAY, cast.responsible)
    assert missing(relay, cast.responsible.user, "for_relay") == ["the case to resume from its pause"]


def test_it_holds_relay_while_an_encounter_guard_does_not_hold(indirect):
    cast = indirect
    move(cast, "draft_agreement")  # past the encounter, a withdrawn consent does not pause the case itself
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="indirect_exchange")
    relay = opened(cast, Kind.RELAY, cast.responsible)
    assert missing(relay, cast.responsible.user, "for_relay") == [
        "consent of the person harmed (Wren) to an exchange through the facilitator"
    ]


def test_inv_survivor_centered_no_relay_when_the_harmed_party_chose_direct(direct):
    cast = direct
    relay = opened(cast, Kind.RELAY, cast.responsible)
    assert "the person harmed (Wren) to choose an exchange through the facilitator" in missing(
        relay, cast.responsible.user, "for_relay"
    )


def test_it_lets_a_party_write_only_for_relay_in_their_exchange(indirect):
    cast = indirect
    relay = opened(cast, Kind.RELAY, cast.responsible)
    for kind in ("message", "relayed", "returned"):
        assert missing(relay, cast.responsible.user, kind) == ["a message for your facilitator to review"]


def test_it_lets_a_facilitator_return_a_pending_message_of_the_same_conversation(indirect):
    cast = indirect
    relay = opened(cast, Kind.RELAY, cast.responsible)
    waiting = pending_for_relay(relay, approved=False)
    assert missing(relay, cast.facilitator, "returned", waiting) == []
    elsewhere = pending_for_relay(opened(cast, Kind.RELAY, cast.harmed))
    assert missing(relay, cast.facilitator, "returned", elsewhere) == [
        "a message of this conversation to return"
    ]
    assert missing(relay, cast.facilitator, "returned", None) == ["a message of this conversation to return"]
    waiting.relay_state = "returned"
    waiting.save()
    assert missing(relay, cast.facilitator, "returned", waiting) == [
        "a message that is still waiting for review"
    ]


def test_it_lets_a_facilitator_relay_an_approved_pending_message_into_the_other_sides_exchange(indirect):
    cast = indirect
    theirs = opened(cast, Kind.RELAY, cast.harmed)
    waiting = pending_for_relay(opened(cast, Kind.RELAY, cast.responsible))
    assert missing(theirs, cast.facilitator, "relayed", waiting) == []


def test_it_refuses_to_relay_without_the_writers_approval(indirect):
    cast = indirect
    waiting = pending_for_relay(opened(cast, Kind.RELAY, cast.responsible), approved=False)
    assert missing(opened(cast, Kind.RELAY, cast.harmed), cast.facilitator, "relayed", waiting) == [
        "a message its writer agreed to have passed on, still waiting for review"
    ]


def test_it_refuses_to_relay_a_message_twice(indirect):
    cast = indirect
    waiting = pending_for_relay(opened(cast, Kind.RELAY, cast.responsible))
    waiting.relay_state = "forwarded"
    waiting.save()
    assert missing(opened(cast, Kind.RELAY, cast.harmed), cast.facilitator, "relayed", waiting) == [
        "a message its writer agreed to have passed on, still waiting for review"
    ]


def test_it_relays_only_to_the_other_side(indirect):
    cast = indirect
    own = opened(cast, Kind.RELAY, cast.responsible)
    waiting = pending_for_relay(own)
    assert missing(own, cast.facilitator, "relayed", waiting) == ["a person on the other side to receive it"]
    assert missing(own, cast.facilitator, "relayed", None) == ["a message from the other side to pass on"]


def test_inv_voluntary_a_relay_is_held_while_the_recipient_withdrew_consent(indirect):
    cast = indirect
    waiting = pending_for_relay(opened(cast, Kind.RELAY, cast.responsible))
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="indirect_exchange")
    found = missing(opened(cast, Kind.RELAY, cast.harmed), cast.facilitator, "relayed", waiting)
    assert "consent of the person harmed (Wren) to an exchange through the facilitator" in found


def test_it_refuses_plain_messages_from_a_facilitator_in_a_relay_conversation(indirect):
    cast = indirect
    relay = opened(cast, Kind.RELAY, cast.responsible)
    for kind in ("message", "for_relay"):
        assert missing(relay, cast.facilitator, kind) == ["a relayed or returned message"]


# Direct: only when every harmed party chose it and every consent holds.


def test_it_opens_direct_when_chosen_and_every_consent_holds(direct):
    cast = direct
    conversation = opened(cast, Kind.DIRECT)
    for user in (cast.harmed.user, cast.responsible.user, cast.facilitator):
        assert missing(conversation, user) == []
    assert missing(conversation, cast.facilitator, "relayed") == [
        "a plain message: relays happen in the exchange through the facilitator"
    ]


def test_inv_voluntary_direct_closes_when_a_consent_is_withdrawn(direct):
    cast = direct
    consent_services.consent_withdraw(
        actor=cast.responsible.user, place=cast.responsible, scope="direct_meeting"
    )
    found = missing(opened(cast, Kind.DIRECT), cast.harmed.user)
    assert "consent of the person responsible (Kestrel) to meet directly" in found


def test_inv_voluntary_direct_closes_while_a_party_is_on_a_break(direct):
    cast = direct
    consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
    found = missing(opened(cast, Kind.DIRECT), cast.facilitator)
    assert "the person harmed (Wren) to come back from their break" in found


# Team: facilitators only, plain messages.


def test_it_lets_facilitators_write_plain_messages_in_the_team_conversation(cast):
    team = opened(cast, Kind.TEAM)
    assert missing(team, cast.facilitator) == []
    assert missing(team, cast.facilitator, "relayed") == ["a place on the case team"]


# How a refusal reads.


def test_inv_confidentiality_a_party_hears_a_calm_refusal_that_names_nobody(cast):
    place = rules.parties(cast.case)[0]
    said = rules.refusal_for(place, ["the person harmed (Wren) to come back from their break"])
    assert said.startswith("Messages are paused for now.")
    assert "not sent" not in said
    for word in ("Wren", "break", "consent", "harmed", "victim", "offender"):
        assert word not in said


def test_it_tells_a_facilitator_everything_still_needed(cast):
    place = rules.facilitators(cast.case)[0]
    said = rules.refusal_for(
        place, ["the case to resume from its pause", "consent of the person harmed (Wren)"]
    )
    assert said == (
        "This message cannot be sent yet. Still needed: the case to resume from its pause; "
        "consent of the person harmed (Wren)."
    )
