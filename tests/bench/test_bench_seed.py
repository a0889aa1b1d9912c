"""`mend bench seed`: the rows it promises, real-looking envelopes, and a staff case list that takes as many
queries for 500 cases as for 50 (what `make bench` then measures at 100,000)."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend.accounts.models import KeyBundle, Membership, User
from mend.bench import seed
from mend.cases.models import FACILITATING_ROLES, Case, Participant
from mend.core import envelope as env
from mend.dialogue import rules
from mend.dialogue.models import Conversation, Message, Recipient
from tests.builders import signed_in


def seeded(cases: int, messages: int) -> None:
    with override_settings(MEND_BENCH=True):
        call_command("bench", "seed", "--cases", str(cases), "--messages", str(messages), "--batch", "20")


def test_it_makes_the_cases_and_messages_asked_for(db):
    seeded(50, 300)
    program = Membership.objects.get(user__username=seed.LEAD_EMAIL).program
    cases = Case.objects.filter(program=program)
    assert cases.count() == 50
    assert Message.objects.filter(conversation__case__program=program).count() == 300
    lead = User.objects.get(username=seed.LEAD_EMAIL)
    # The facilitator of the `page` scenario runs every case.
    assert Participant.objects.filter(user=lead, role__in=FACILITATING_ROLES, case__in=cases).count() == 50
    assert Membership.objects.filter(program=program).count() == seed.STAFF


def test_it_writes_conversations_that_add_up(db):
    seeded(40, 400)
    for conversation in Conversation.objects.all():
        assert conversation.last_seq == conversation.messages.count()
        seqs = list(conversation.messages.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))


def test_it_encrypts_each_message_to_the_readers_of_its_conversation(db):
    seeded(30, 200)
    for message in Message.objects.select_related("conversation__case__program")[:60]:
        readers = {p.user_id for p in rules.readers(message.conversation)}
        keys = dict(KeyBundle.objects.filter(user__in=readers).values_list("user_id", "key_id"))
        recipients = dict(Recipient.objects.filter(message=message).values_list("user_id", "key_id"))
        assert recipients == keys
        envelope = json.loads(message.envelope)
        assert (
            env.canonical(envelope).decode() == message.envelope
        )  # stored as canonical JSON, like real ones
        env.check_form(envelope)
        assert {entry["to"] for entry in envelope["keys"]} == set(keys.values())
        assert envelope["sender"] == keys[message.sender_id] == message.sender_key_id


def test_it_opens_the_sealed_referral_details(db):
    seeded(5, 0)
    for case in Case.objects.all():
        assert str(case.referral_details) in seed.REFERRALS


def test_it_does_nothing_the_second_time(db, capsys):
    seeded(10, 20)
    seeded(30, 60)
    assert Case.objects.count() == 10
    assert "already seeded" in capsys.readouterr().out


def test_it_refuses_without_the_bench_flag(db):
    with override_settings(MEND_BENCH=False), pytest.raises(CommandError, match="MEND_BENCH=1"):
        call_command("bench", "seed", "--cases", "5")
    assert not Case.objects.exists()


def count_case_list_queries(client) -> int:
    client.get("/cases/")  # the first call may fill per-process caches; the counted one is steady
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/cases/")
    assert response.status_code == 200
    return len(captured)


def test_it_lists_50_and_500_seeded_cases_in_the_same_number_of_queries(db):
    seeded(50, 100)
    lead = User.objects.get(username=seed.LEAD_EMAIL)
    TOTPDevice.objects.create(user=lead, name="test", confirmed=True)
    client = signed_in(lead)
    few = count_case_list_queries(client)
    seed.seed(cases=450, messages=100, batch=150, progress=lambda line: None)  # adds to the same program
    assert Case.objects.filter(participants__user=lead).count() == 500
    assert count_case_list_queries(client) == few
