"""Issue 16, the dialogue part: a path per person. A direct conversation is between a harmed "unit" and a
responsible "unit" (one person, or the group of the people on that side who each agreed to be seen by the
others). One person's stop, break or exclusion holds what involves them and nothing else: the others go on
writing and receiving; the person left out keeps reading what was already theirs, and receives nothing
further. Nobody sees a person harmed who did not choose to be seen."""

import json

import pytest
from django.urls import reverse

from mend import builders
from mend.consent import services as consent_services
from mend.dialogue import rules, selectors, services
from mend.dialogue.models import Conversation, Message, Recipient
from tests.builders import signed_in
from tests.dialogue.helpers import give_keys, seal

pytestmark = pytest.mark.django_db

Kind = Conversation.Kind
FIVE = ("Aspen", "Birch", "Cedar", "Dune", "Elm")
CALM = "Messages are paused for now. Your facilitator will let you know when you can write again."


def _zones(pseudonym: str) -> str:
    return "Pacific/Chatham" if pseudonym == "Aspen" else "UTC"


@pytest.fixture
def breach(cast):
    """A data breach at the encounter stage: five people harmed who chose to write directly, and Falcon."""
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=FIVE,
        responsible=("Falcon",),
        actions=builders.TO_ENCOUNTER,
        time_zones=_zones,
    )
    prepared.facilitator = cast.facilitator
    prepared.keys = {p.user_id: give_keys(p.user) for p in (*prepared.harmed, *prepared.responsible)}
    prepared.keys[cast.facilitator.pk] = give_keys(cast.facilitator)
    return prepared


@pytest.fixture
def school(cast):
    """One person harmed (Kauri) and three youths responsible (Kea, Tui, Weka), at the encounter stage."""
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Kauri",),
        responsible=("Kea", "Tui", "Weka"),
        actions=builders.TO_ENCOUNTER,
    )
    prepared.facilitator = cast.facilitator
    prepared.keys = {p.user_id: give_keys(p.user) for p in (*prepared.harmed, *prepared.responsible)}
    prepared.keys[cast.facilitator.pk] = give_keys(cast.facilitator)
    return prepared


def direct_of(prepared, user) -> list[Conversation]:
    return [
        Conversation.objects.select_related("case__program", "party", "counterpart").get(pk=c.pk)
        for c in services.conversations_open_for(case=prepared.case, user=user)
        if c.kind == Kind.DIRECT
    ]


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("case__program", "party", "counterpart").get(
        pk=conversation.pk
    )


def send(prepared, user, conversation, text="hello") -> Message:
    conversation = fresh(conversation)
    message, _created = services.message_post(
        actor=user, conversation=conversation, envelope=seal(conversation, prepared.keys[user.pk], text)
    )
    return message


def refusal(prepared, user, conversation) -> str:
    conversation = fresh(conversation)
    with pytest.raises(services.Refused) as caught:
        services.message_post(
            actor=user, conversation=conversation, envelope=seal(conversation, prepared.keys[user.pk])
        )
    assert caught.value.code == "not_now", caught.value.message
    return caught.value.message


def assert_not_in(prepared, place, conversation) -> None:
    """The person cannot reach the conversation at all: not listed, not found, refused as not in it."""
    assert conversation.pk not in [c.pk for c in direct_of(prepared, place.user)]
    assert rules.place_of(fresh(conversation), place.user) is None
    page = reverse("dialogue:conversation", args=[prepared.case.reference, conversation.public_id])
    assert signed_in(place.user).get(page).status_code == 404
    with pytest.raises(services.NotInConversation):
        send(prepared, place.user, conversation)


def users(places) -> set[int]:
    return {p.user_id for p in places}


def people_of(conversation) -> set[str]:
    return {p.pseudonym for p in rules.readers(fresh(conversation)) if not p.is_facilitating}


def conversation_with(prepared, harmed) -> Conversation:
    found = [c for c in direct_of(prepared, harmed.user)]
    assert len(found) == 1
    return found[0]


# --- five people harmed, one person responsible -----


def test_inv_privacy_five_people_harmed_have_five_direct_conversations_none_showing_another(breach):
    falcon = breach.responsible[0]
    conversations = direct_of(breach, falcon.user)
    assert len(conversations) == 5
    assert sorted(people_of(c) for c in conversations) == sorted({name, "Falcon"} for name in FIVE)
    assert len(direct_of(breach, breach.facilitator)) == 5
    for harmed in breach.harmed:
        mine = conversation_with(breach, harmed)
        assert people_of(mine) == {harmed.pseudonym, "Falcon"}
        for other in conversations:
            if other.pk != mine.pk:
                assert rules.place_of(fresh(other), harmed.user) is None


def test_inv_privacy_a_direct_conversation_is_one_per_pair_even_opened_twice(breach):
    aspen, falcon = breach.harmed[0], breach.responsible[0]
    first = services.conversation_open(case=breach.case, kind=Kind.DIRECT, party=aspen, counterpart=falcon)
    again = services.conversation_open(case=breach.case, kind=Kind.DIRECT, party=aspen, counterpart=falcon)
    groups = services.conversation_open(case=breach.case, kind=Kind.DIRECT)
    assert first.pk == again.pk != groups.pk
    assert Conversation.objects.filter(case=breach.case, kind=Kind.DIRECT, party=aspen).count() == 1


def test_inv_voluntary_one_person_stops_and_the_other_four_write_and_receive(breach):
    aspen, falcon = breach.harmed[0], breach.responsible[0]
    hers = conversation_with(breach, aspen)
    before = send(breach, falcon.user, hers, "before she stopped")
    builders.stop(aspen)
    for harmed in breach.harmed[1:]:
        theirs = conversation_with(breach, harmed)
        written = send(breach, harmed.user, theirs)
        answered = send(breach, falcon.user, theirs)
        for message in (written, answered):
            assert set(Recipient.objects.filter(message=message).values_list("user_id", flat=True)) == {
                harmed.user_id,
                falcon.user_id,
                breach.facilitator.pk,
            }
    # Her own conversation holds: the person responsible hears only the calm words, naming nobody.
    # Her own conversation is out of the others' reach while she is away, as if she had never come: the
    # person responsible learns nothing from a conversation named after her (leaks.md, LEAK 1).
    assert_not_in(breach, falcon, hers)
    # Staff read exactly what is missing.
    staff = refusal(breach, breach.facilitator, hers)
    assert "consent to take part from the person harmed (Aspen)" in staff
    # She still reads what was already hers, and nothing new reaches her.
    assert rules.place_of(fresh(hers), aspen.user) is not None
    assert [m["id"] for m in selectors.backlog(fresh(hers), aspen.user, 0)] == [before.message_id]
    assert aspen.user_id not in users(rules.recipients(fresh(hers)))
    assert not Recipient.objects.filter(user=aspen.user, message__created_at__gt=before.created_at).exists()
    # The live frame the others' sockets send carries nothing of hers.
    birchs = fresh(conversation_with(breach, breach.harmed[1]))
    message = send(breach, falcon.user, birchs, "after she stopped")
    bundles = services.current_bundles([p.user for p in rules.recipients(birchs)])
    frame = selectors.message_frame_text(
        message,
        sender_bundle=services.current_bundles([falcon.user])[falcon.user_id],
        recipient_bundles=bundles.values(),
    )
    assert "Aspen" not in frame and breach.keys[aspen.user_id].key_id not in frame
    assert str(aspen.user_id) not in json.loads(frame)["recipient_keys"]


def test_inv_voluntary_a_break_and_an_exclusion_hold_only_that_persons_conversation(breach):
    birch, cedar, falcon = breach.harmed[1], breach.harmed[2], breach.responsible[0]
    birchs, cedars = conversation_with(breach, birch), conversation_with(breach, cedar)
    consent_services.participant_pause(actor=birch.user, place=birch)
    consent_services.participant_exclude(actor=breach.facilitator, place=cedar, reason="Invented reason")
    assert_not_in(breach, falcon, birchs)
    assert_not_in(breach, falcon, cedars)
    staff = refusal(breach, breach.facilitator, birchs)
    assert "the person harmed (Birch) to come back from their break" in staff
    send(breach, falcon.user, conversation_with(breach, breach.harmed[3]))
    # Coming back rejoins her own conversation.
    consent_services.participant_resume(actor=birch.user, place=birch)
    send(breach, falcon.user, birchs)


def test_inv_privacy_the_person_responsible_never_receives_a_harmed_person_who_did_not_choose_it(breach):
    aspen, falcon = breach.harmed[0], breach.responsible[0]
    hers = conversation_with(breach, aspen)
    send(breach, aspen.user, hers, "from Aspen")
    for harmed in breach.harmed[1:]:
        send(breach, harmed.user, conversation_with(breach, harmed))
    aspen_key = breach.keys[aspen.user_id].key_id
    # Aspen changes her mind: she no longer chooses to write directly.
    consent_services.choices_update(
        actor=aspen.user,
        place=aspen,
        mode="indirect",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="at_end",
    )
    seen = _everything_seen_by(breach, falcon)
    assert "Aspen" not in seen
    assert aspen_key not in seen
    assert "Chatham" not in seen
    assert f'"user": {aspen.user_id},' not in seen


def test_inv_privacy_no_person_harmed_finds_another_in_what_they_can_reach(breach):
    aspen = breach.harmed[0]
    for harmed in breach.harmed:
        send(breach, harmed.user, conversation_with(breach, harmed), f"from {harmed.pseudonym}")
    for harmed in breach.harmed[1:]:
        seen = _everything_seen_by(breach, harmed)
        assert "Aspen" not in seen
        assert breach.keys[aspen.user_id].key_id not in seen
        assert "Chatham" not in seen
        assert f'"user": {aspen.user_id},' not in seen


def test_inv_privacy_people_harmed_who_each_agreed_share_one_conversation(breach):
    birch, cedar, falcon = breach.harmed[1], breach.harmed[2], breach.responsible[0]
    consent_services.same_side_visibility_set(actor=birch.user, place=birch, seen=True)
    # One agreement alone changes nothing: both must agree.
    assert people_of(conversation_with(breach, birch)) == {"Birch", "Falcon"}
    consent_services.same_side_visibility_set(actor=cedar.user, place=cedar, seen=True)
    shared = conversation_with(breach, birch)
    assert shared.party_id is None and shared.counterpart_id == falcon.pk
    assert conversation_with(breach, cedar).pk == shared.pk
    assert people_of(shared) == {"Birch", "Cedar", "Falcon"}
    assert len(direct_of(breach, falcon.user)) == 4
    # One of the group stops: the other goes on in it; the one who stopped is no recipient.
    builders.stop(cedar)
    message = send(breach, falcon.user, shared)
    assert cedar.user_id not in set(
        Recipient.objects.filter(message=message).values_list("user_id", flat=True)
    )
    assert birch.user_id in set(Recipient.objects.filter(message=message).values_list("user_id", flat=True))


# --- one person harmed, three responsible -----


def test_inv_privacy_each_youth_has_their_own_direct_conversation(school):
    kauri = school.harmed[0]
    conversations = direct_of(school, kauri.user)
    assert sorted(people_of(c) for c in conversations) == sorted(
        [{"Kauri", "Kea"}, {"Kauri", "Tui"}, {"Kauri", "Weka"}]
    )
    for youth in school.responsible:
        (mine,) = direct_of(school, youth.user)
        assert people_of(mine) == {"Kauri", youth.pseudonym}
        members = [m["name"] for m in selectors.members(fresh(mine))]
        assert not {"Kea", "Tui", "Weka"} - {youth.pseudonym} & set(members)


def test_inv_privacy_youths_who_each_agreed_share_one_conversation(school):
    for youth in school.responsible:
        consent_services.same_side_visibility_set(actor=youth.user, place=youth, seen=True)
    (shared,) = direct_of(school, school.harmed[0].user)
    assert people_of(shared) == {"Kauri", "Kea", "Tui", "Weka"}
    assert shared.party_id == school.harmed[0].pk and shared.counterpart_id is None


def test_inv_voluntary_one_youth_stops_and_the_others_go_on(school):
    kauri, kea = school.harmed[0], school.responsible[0]
    (keas,) = direct_of(school, kea.user)
    builders.stop(kea)
    for youth in school.responsible[1:]:
        (theirs,) = direct_of(school, youth.user)
        send(school, youth.user, theirs)
        send(school, kauri.user, theirs)
    # The stopped youth finds the conversation that was theirs, and nothing new.
    assert [c.pk for c in direct_of(school, kea.user)] == [keas.pk]
    assert_not_in(school, kauri, keas)


# --- relayed messages -----


def test_inv_voluntary_a_relayed_message_for_a_person_left_out_is_held_until_they_return(cast):
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Kauri", "Rata"),
        responsible=("Kea",),
        readiness=builders.Readiness(mode="indirect"),
        actions=builders.TO_ENCOUNTER,
    )
    keys = {p.user_id: give_keys(p.user) for p in (*prepared.harmed, *prepared.responsible)}
    keys[cast.facilitator.pk] = give_keys(cast.facilitator)
    (kauri, rata), (kea,) = prepared.harmed, prepared.responsible

    def written(text):
        keas = fresh(services.conversation_open(case=prepared.case, kind=Kind.RELAY, party=kea))
        meta = {"kind": "for_relay", "approved": True}
        message, _ = services.message_post(
            actor=kea.user, conversation=keas, envelope=seal(keas, keys[kea.user_id], text, meta=meta)
        )
        return message

    def relay_to(place, waiting):
        theirs = fresh(services.conversation_open(case=prepared.case, kind=Kind.RELAY, party=place))
        meta = {"kind": "relayed", "ref": waiting.message_id}
        return theirs, seal(theirs, keys[cast.facilitator.pk], "passed on", meta=meta)

    for_kauri, for_rata = written("for Kauri"), written("for Rata")
    consent_services.participant_pause(actor=kauri.user, place=kauri)
    kauris, relayed = relay_to(kauri, for_kauri)
    with pytest.raises(services.Refused) as caught:
        services.message_post(actor=cast.facilitator, conversation=kauris, envelope=relayed)
    assert "the person harmed (Kauri) to come back from their break" in caught.value.message
    for_kauri.refresh_from_db()
    assert for_kauri.relay_state == "pending"
    # The others go on: Kea still writes, and what is for Rata reaches her.
    written("another")
    ratas, to_rata = relay_to(rata, for_rata)
    services.message_post(actor=cast.facilitator, conversation=ratas, envelope=to_rata)
    assert (
        not Recipient.objects.filter(user=kauri.user, message__conversation__kind=Kind.RELAY)
        .exclude(message__conversation__party=kauri)
        .exists()
    )
    # Back from her break, what waited for her is passed on.
    consent_services.participant_resume(actor=kauri.user, place=kauri)
    message, created = services.message_post(
        actor=cast.facilitator, conversation=fresh(kauris), envelope=relayed
    )
    assert created and message.kind == "relayed"


# --- pages and answers -----


def _everything_seen_by(prepared, place) -> str:
    """Every answer this person can reach about the dialogue: the list page, each conversation's page, its
    members answer, and every frame of its messages as the websocket and the API send them."""
    client = signed_in(place.user)
    reference = prepared.case.reference
    seen = [client.get(reverse("dialogue:list", args=[reference])).content.decode()]
    for conversation in services.conversations_open_for(case=prepared.case, user=place.user):
        conversation = fresh(conversation)
        seen.append(
            client.get(
                reverse("dialogue:conversation", args=[reference, conversation.public_id])
            ).content.decode()
        )
        seen.append(
            client.get(reverse("dialogue:members", args=[reference, conversation.public_id])).content.decode()
        )
        seen.append(json.dumps(selectors.backlog(conversation, place.user, 0)))
        seen.append(json.dumps(selectors.receipts_of(conversation, place.user)))
    return "\n".join(seen)


def test_inv_confidentiality_the_paused_banner_says_the_calm_words_before_anything_is_written(breach):
    from mend.cases import services as case_services

    aspen, falcon = breach.harmed[0], breach.responsible[0]
    hers = conversation_with(breach, aspen)
    case_services.case_transition(actor=breach.facilitator, case=breach.case, action="pause")
    for place in (aspen, falcon):
        page = signed_in(place.user).get(
            reverse("dialogue:conversation", args=[breach.case.reference, hers.public_id])
        )
        banner = page.content.decode().split('data-testid="cannot-write">')[1].split("</p>")[0]
        assert banner == CALM
    # Sending anyway gets the same words, and nothing about a message not sent.
    assert refusal(breach, falcon.user, hers) == CALM
    staff = refusal(breach, breach.facilitator, hers)
    assert "the case to resume from its pause" in staff


def test_inv_privacy_another_persons_direct_conversation_is_not_found(breach):
    aspen, birch = breach.harmed[0], breach.harmed[1]
    hers = conversation_with(breach, aspen)
    client = signed_in(birch.user)
    reference = breach.case.reference
    for name in ("dialogue:conversation", "dialogue:members"):
        assert client.get(reverse(name, args=[reference, hers.public_id])).status_code == 404
    listed = client.get(reverse("dialogue:list", args=[reference])).content.decode()
    assert hers.public_id not in listed and "Aspen" not in listed


def test_the_migration_gives_an_old_shared_direct_conversation_to_the_one_pair(cast, breach):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("mend.dialogue.migrations.0003_direct_pairs")
    # As the shared conversation was before: no party, no counterpart.
    old_pair = Conversation.objects.create(case=cast.case, kind=Kind.DIRECT, public_id="D-OLD1-PAIR")
    old_many = Conversation.objects.create(case=breach.case, kind=Kind.DIRECT, public_id="D-OLD2-MANY")
    migration.key_direct_conversations(apps, None)
    old_pair.refresh_from_db()
    old_many.refresh_from_db()
    assert (old_pair.party_id, old_pair.counterpart_id) == (cast.harmed.pk, cast.responsible.pk)
    assert (old_many.party_id, old_many.counterpart_id) == (None, None)


@pytest.mark.parametrize("key", ["both", "harmed group", "responsible group", "groups"])
def test_a_second_conversation_with_the_same_key_is_refused_by_the_database(breach, key):
    from django.db import IntegrityError, transaction

    aspen, falcon = breach.harmed[0], breach.responsible[0]
    party, counterpart = {
        "both": (aspen, falcon),
        "harmed group": (None, falcon),
        "responsible group": (aspen, None),
        "groups": (None, None),
    }[key]
    fields = {"case": breach.case, "kind": Kind.DIRECT, "party": party, "counterpart": counterpart}
    Conversation.objects.create(**fields, public_id="D-KEY1-ONCE")
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(**fields, public_id="D-KEY2-TWICE")
