"""What one message costs the server, and what that cost must not buy back: a fixed number of queries
whatever the number of people and messages in the case, every check made against a fresh reading whatever
conversation object the caller holds, and a retry racing its first attempt answered as a replay."""

import threading
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.assessments import services as assessments
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from mend.consent import services as consent_services
from mend.core import envelope as env
from mend.core.errors import Conflict
from mend.dialogue import services
from mend.dialogue.access import access_conversation
from mend.dialogue.models import Conversation, Message
from tests.builders import consent, join, make_staff, prepare_for_encounter
from tests.dialogue.helpers import give_keys, seal

pytestmark = pytest.mark.django_db

Kind = Conversation.Kind

# The most queries `message_post` makes for one message, savepoints aside. Every kind: the conversation
# (locked, with its case), everyone's place in the case, the replay check, the keys of the readers, then the
# seq, the message and its recipients. A support conversation reads the party's consent too; the exchange
# through the facilitator checks everything the encounter needs (consent, choices, preparation,
# declarations, the program's words for the people named).
MOST_QUERIES = {Kind.SUPPORT: 8, Kind.TEAM: 7, Kind.RELAY: 15}


def queries_of(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])


def opened(cast, kind, party=None) -> Conversation:
    made = services.conversation_open(case=cast.case, kind=kind, party=party)
    return Conversation.objects.select_related("case__program", "party").get(pk=made.pk)


def opened_again(conversation) -> Conversation:
    return Conversation.objects.select_related("case__program", "party").get(pk=conversation.pk)


def grow(cast, n: int) -> None:
    """More people in the case (parties, and facilitators with keys, who read every conversation of it)."""
    for i in range(n):
        join(actor=cast.facilitator, case=cast.case, role=Role.HARMED_PARTY, pseudonym=f"Plover {i}")
        join(actor=cast.facilitator, case=cast.case, role=Role.RESPONSIBLE_PARTY, pseudonym=f"Stint {i}")
        colleague = make_staff(cast.program, "facilitator", f"team{i}@riverbend.test", f"Tam {i}")
        case_services.facilitator_assign(
            actor=cast.coordinator, case=cast.case, user=colleague, role=Role.CO_FACILITATOR
        )
        give_keys(colleague)


def cost_of_sending(user, conversation, keys, *, meta=None) -> int:
    # A new conversation object each time, as each frame or request brings; sealed to whoever reads it now.
    conversation = Conversation.objects.get(pk=conversation.pk)
    envelope = seal(opened_again(conversation), keys, "How are you?", meta=meta)
    count = queries_of(
        lambda: services.message_post(actor=user, conversation=conversation, envelope=envelope)
    )
    assert Message.objects.filter(message_id=envelope["id"]).exists()
    return count


@pytest.fixture
def support(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    keys = give_keys(cast.harmed.user)
    give_keys(cast.facilitator)
    return opened(cast, Kind.SUPPORT, cast.harmed), keys


def test_it_accepts_a_support_message_in_queries_that_do_not_grow_with_people_or_messages(cast, support):
    conversation, keys = support
    user = cast.harmed.user
    cost_of_sending(user, conversation, keys)  # the first send may fill per-process caches
    few = cost_of_sending(user, conversation, keys)
    grow(cast, 3)
    for _ in range(5):
        cost_of_sending(user, conversation, keys)
    assert cost_of_sending(user, conversation, keys) == few <= MOST_QUERIES[Kind.SUPPORT]


def test_it_accepts_a_team_message_in_queries_that_do_not_grow_with_the_team(cast):
    keys = give_keys(cast.facilitator)
    team = opened(cast, Kind.TEAM)
    cost_of_sending(cast.facilitator, team, keys)
    few = cost_of_sending(cast.facilitator, team, keys)
    grow(cast, 4)
    assert cost_of_sending(cast.facilitator, team, keys) == few <= MOST_QUERIES[Kind.TEAM]
    assert Message.objects.filter(conversation=team).last().recipients.count() == 5


def test_it_accepts_a_message_for_relay_in_queries_that_do_not_grow_with_people(cast):
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    keys = give_keys(cast.responsible.user)
    give_keys(cast.facilitator)
    relay = opened(cast, Kind.RELAY, cast.responsible)
    meta = {"kind": "for_relay", "approved": True}
    cost_of_sending(cast.responsible.user, relay, keys, meta=meta)
    few = cost_of_sending(cast.responsible.user, relay, keys, meta=meta)
    # More facilitators (each declares no conflict of interest, as the encounter needs) and supporters.
    for i in range(3):
        colleague = make_staff(cast.program, "facilitator", f"relay{i}@riverbend.test", f"Rue {i}")
        case_services.facilitator_assign(
            actor=cast.coordinator, case=cast.case, user=colleague, role=Role.CO_FACILITATOR
        )
        assessments.conflict_declare(actor=colleague, case=cast.case, has_conflict=False)
        give_keys(colleague)
        join(
            actor=cast.facilitator,
            case=cast.case,
            role=Role.SUPPORTER,
            pseudonym=f"Sedge {i}",
            supports=cast.harmed,
        )
    cast.case.refresh_from_db()
    if cast.case.stage == "paused":  # where assigning someone undeclared pauses the case until they declare
        case_services.case_transition(actor=cast.facilitator, case=cast.case, action="resume")
    assert cost_of_sending(cast.responsible.user, relay, keys, meta=meta) == few <= MOST_QUERIES[Kind.RELAY]


def test_it_records_a_receipt_in_queries_that_do_not_grow_with_people(cast, support):
    conversation, keys = support
    facilitator_keys = give_keys(cast.facilitator)
    assert facilitator_keys

    def cost_of_a_read_receipt() -> int:
        message, _ = services.message_post(
            actor=cast.harmed.user, conversation=conversation, envelope=seal(opened_again(conversation), keys)
        )

        # What the socket's receipt frame does: the conversation, then the receipt.
        def receipt():
            here = access_conversation(cast.facilitator, conversation.public_id)
            services.receipt_record(
                actor=cast.facilitator, message_id=message.message_id, kind="read", conversation=here
            )

        return queries_of(receipt)

    few = cost_of_a_read_receipt()
    grow(cast, 3)
    assert cost_of_a_read_receipt() == few <= 4  # the conversation, the people, the row, its update


# Nothing is read from what the caller holds: a socket keeps its conversation object for hours.


def test_inv_voluntary_it_reads_consent_afresh_whatever_conversation_object_it_is_given(cast, support):
    conversation, keys = support
    services.message_post(
        actor=cast.harmed.user, conversation=conversation, envelope=seal(conversation, keys)
    )
    consent_services.consent_withdraw(
        actor=cast.harmed.user,
        place=Participant.objects.get(pk=cast.harmed.pk),
        scope="facilitator_contact",
    )
    # The same object, whose case still holds everyone's places and consents as they were before.
    with pytest.raises(services.Refused) as caught:
        services.message_post(
            actor=cast.harmed.user, conversation=conversation, envelope=seal(conversation, keys)
        )
    assert caught.value.code == "not_now"


def test_inv_privacy_it_reads_who_is_in_the_conversation_afresh_whatever_object_it_is_given(cast, support):
    conversation, _keys = support
    facilitator_keys = give_keys(cast.facilitator)
    envelope = seal(conversation, facilitator_keys)
    Participant.objects.filter(case=cast.case, user=cast.facilitator).update(removed_at=timezone.now())
    with pytest.raises(services.NotInConversation):
        services.message_post(actor=cast.facilitator, conversation=conversation, envelope=envelope)
    assert not Message.objects.exists()


# Races: two attempts at once, each in its own thread and connection, as two servers or sockets would make.


def _at_once(*attempts) -> list:
    """Runs the attempts in threads started together; their results or exceptions, in order."""
    barrier = threading.Barrier(len(attempts))
    results: list = [None] * len(attempts)

    def run(i, attempt):
        try:
            barrier.wait()
            results[i] = attempt()
        except Exception as error:  # noqa: BLE001 - the test looks at what each attempt raised
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def slow_signature_check(monkeypatch):
    """Holds each attempt for a moment after its replay check, while it holds its lock: the window a racing
    attempt would slip through if it were not made to wait on the lock and look again."""
    verify = env.verify

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return verify(*args, **kwargs)

    monkeypatch.setattr(env, "verify", slow)


def _postgresql_only():
    # SQLite takes the write lock at BEGIN (IMMEDIATE), so two attempts never overlap there; its in-memory
    # test database is shared between threads in a way that does not wait for that lock.
    if connection.vendor != "postgresql":
        pytest.skip("races need a database with concurrent writers (PostgreSQL)")


@pytest.mark.django_db(transaction=True)
def test_inv_nothing_lost_a_retry_racing_its_first_attempt_is_answered_as_a_replay(
    cast, support, slow_signature_check
):
    _postgresql_only()
    conversation, keys = support
    envelope = seal(conversation, keys, "Sent, and sent again before the answer came.")

    def attempt():
        message, created = services.message_post(
            actor=cast.harmed.user, conversation=conversation, envelope=envelope
        )
        return message.seq, created

    results = _at_once(attempt, attempt)
    assert sorted(results) == [(1, False), (1, True)], results
    assert Message.objects.filter(message_id=envelope["id"]).count() == 1
    conversation.refresh_from_db()
    assert conversation.last_seq == 1


@pytest.mark.django_db(transaction=True)
def test_it_gives_a_message_id_raced_into_two_conversations_to_one_of_them_only(
    cast, support, slow_signature_check
):
    _postgresql_only()
    conversation, keys = support
    # Another case altogether, so that the two attempts share no lock and meet only at the unique id.
    outsider_place = Participant.objects.get(user=cast.outsider)
    consent(outsider_place, "take_part", "facilitator_contact")
    outsider_keys = give_keys(cast.outsider)
    elsewhere = services.conversation_open(case=outsider_place.case, kind=Kind.SUPPORT, party=outsider_place)
    message_id = str(uuid.uuid4())
    here = seal(conversation, keys, "Here.", message_id=message_id)
    there = seal(opened_again(elsewhere), outsider_keys, "There.", message_id=message_id)

    def attempt(user, target, envelope):
        return lambda: services.message_post(actor=user, conversation=target, envelope=envelope)[0].seq

    results = _at_once(
        attempt(cast.harmed.user, conversation, here), attempt(cast.outsider, elsewhere, there)
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"], results
    assert [r for r in results if isinstance(r, Conflict)][0].message.startswith("A message with this id")
    stored = Message.objects.get(message_id=message_id)
    stored.conversation.refresh_from_db()
    assert stored.conversation.last_seq == 1
    loser = elsewhere if stored.conversation_id == conversation.pk else conversation
    loser.refresh_from_db()
    assert loser.last_seq == 0 and not loser.messages.exists()
