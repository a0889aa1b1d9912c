"""Limits on what one person sends: messages per person over the websocket and over HTTP alike, uploads
per person, a cap on files uploaded and never sent, and the job that deletes those after a while. Each
refusal is calm and says when to try again."""

import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.utils import timezone

from mend.core import envelope as env
from mend.dialogue import services
from mend.dialogue.models import Attachment, Conversation, Message
from tests.builders import consent
from tests.dialogue.helpers import give_keys, recipients_now, seal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _one_window():
    """The clock stands still, so that a burst never straddles the edge of a fixed counting window."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def limits(settings, **rates):
    settings.MEND_RATE_LIMITS = {
        **settings.MEND_RATE_LIMITS,
        **{k.replace("__", "."): v for k, v in rates.items()},
    }


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("case__program", "party").get(pk=conversation.pk)


@pytest.fixture
def talking(cast):
    """The person harmed and their facilitator, with keys and consent to be in touch."""
    consent(cast.harmed, "take_part", "facilitator_contact")
    keys = SimpleNamespace(harmed=give_keys(cast.harmed.user), facilitator=give_keys(cast.facilitator))
    support = services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    return SimpleNamespace(keys=keys, support=support, url=f"/cases/{cast.case.reference}/messages/")


def send_http(client, talking, envelope):
    return client.post(
        f"{talking.url}{talking.support.public_id}/send/",
        json.dumps(envelope),
        content_type="application/json",
    )


def upload(client, talking, data: bytes = b"x" * 64, file_id: str | None = None):
    return client.post(
        f"{talking.url}{talking.support.public_id}/files/",
        data,
        content_type="application/octet-stream",
        headers={"X-File-Id": file_id or str(uuid.uuid4())},
    )


async def answers_to(socket, count: int) -> list[dict]:
    """The next `count` answers to sends (acknowledgments and refusals), skipping the messages themselves."""
    answers = []
    while len(answers) < count:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] in ("ack", "refused"):
            answers.append(frame)
    return answers


# --- messages ----------------------------------------------------------------------------------------


def test_it_has_a_per_person_limit_on_messages_and_uploads_by_default(settings):
    assert settings.MEND_RATE_LIMITS["message.person"] == "60/m"
    assert settings.MEND_RATE_LIMITS["upload.person"] == "20/10m"


def test_it_refuses_messages_over_http_past_the_per_person_limit_and_says_when_to_try_again(cast, talking):
    client = cast.client("harmed")
    answers = [
        send_http(client, talking, seal(fresh(talking.support), talking.keys.harmed, f"n{n}"))
        for n in range(65)
    ]
    assert [a.status_code for a in answers] == [201] * 60 + [429] * 5
    refused = answers[-1]
    assert refused.json()["code"] == "rate"
    assert "each person can send up to 60 messages in 1 minute" in refused.json()["error"]
    assert "You can send it again in " in refused.json()["error"]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Message.objects.filter(sender=cast.harmed.user).count() == 60
    # Somebody else in the same conversation is not held back.
    ok = send_http(
        cast.client("facilitator"), talking, seal(fresh(talking.support), talking.keys.facilitator, "here")
    )
    assert ok.status_code == 201


def test_it_answers_a_replay_of_a_stored_message_even_past_the_limit(cast, talking, settings):
    limits(settings, message__person="2/m")
    client = cast.client("harmed")
    first = seal(fresh(talking.support), talking.keys.harmed, "first")
    assert send_http(client, talking, first).status_code == 201
    assert send_http(client, talking, seal(fresh(talking.support), talking.keys.harmed)).status_code == 201
    assert send_http(client, talking, seal(fresh(talking.support), talking.keys.harmed)).status_code == 429
    # The outbox sending the first again after a reconnect still gets its acknowledgment.
    again = send_http(client, talking, first)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)


def test_it_counts_only_accepted_messages(cast, talking, settings):
    limits(settings, message__person="2/m")
    client = cast.client("harmed")
    bad = seal(fresh(talking.support), talking.keys.harmed)
    bad["sig"] = "A" * 86
    for _ in range(5):
        assert send_http(client, talking, bad).status_code == 400
    assert send_http(client, talking, seal(fresh(talking.support), talking.keys.harmed)).status_code == 201


def test_it_counts_messages_over_the_websocket_and_http_together(cast, talking, settings):
    from tests.dialogue.test_consumers import connect, cookie_of

    limits(settings, message__person="3/m")
    client = cast.client("harmed")
    for n in range(2):
        sent = send_http(client, talking, seal(fresh(talking.support), talking.keys.harmed, f"h{n}"))
        assert sent.status_code == 201

    async def scenario():
        socket, connected, _ = await connect(cookie_of(client), talking.support.public_id)
        assert connected
        for envelope in envelopes:
            await socket.send_json_to({"type": "send", "envelope": envelope})
        answers = await answers_to(socket, len(envelopes))
        await socket.disconnect()
        return answers

    envelopes = [seal(fresh(talking.support), talking.keys.harmed, f"w{n}") for n in range(3)]

    answers = async_to_sync(scenario)()
    assert [a["type"] for a in answers] == ["ack", "refused", "refused"]
    assert answers[1]["code"] == "rate" and "You can send it again in" in answers[1]["error"]
    assert Message.objects.filter(sender=cast.harmed.user).count() == 3


def test_it_refuses_a_flood_over_the_websocket_after_the_limit(cast, talking):
    """The attack of issue 14: one participant sending as fast as the socket takes it."""
    from tests.dialogue.test_consumers import connect, cookie_of

    cookie = cookie_of(cast.client("harmed"))
    envelopes = [seal(fresh(talking.support), talking.keys.harmed, f"flood {n}") for n in range(100)]

    async def scenario():
        socket, connected, _ = await connect(cookie, talking.support.public_id)
        assert connected
        for envelope in envelopes:
            await socket.send_json_to({"type": "send", "envelope": envelope})
        answers = await answers_to(socket, len(envelopes))
        await socket.disconnect()
        return [a["type"] for a in answers]

    kinds = async_to_sync(scenario)()
    assert kinds.count("ack") == 60 and kinds.count("refused") == 40
    assert Message.objects.filter(sender=cast.harmed.user).count() == 60


# --- uploads -----------------------------------------------------------------------------------------


def test_it_refuses_uploads_past_the_per_person_limit_and_says_when_to_try_again(cast, talking, settings):
    limits(settings, upload__person="3/10m")
    client = cast.client("harmed")
    answers = [upload(client, talking) for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate"
    assert "each person can send up to 3 files in 10 minutes" in refused.json()["error"]
    assert 0 < int(refused["Retry-After"]) <= 600
    assert Attachment.objects.count() == 3
    assert upload(cast.client("facilitator"), talking).status_code == 201


def test_it_bounds_a_burst_of_large_uploads_from_one_person_at_the_default_limits(cast, talking, settings):
    """The attack of issue 14 (8 x 10 MiB in under a second, kept for ever), at the default limits: what one
    person can hold unsent is capped at ten files, and what they can upload at twenty files a ten minutes."""
    assert (settings.MEND_UNSENT_FILES_MAX, settings.MEND_UNSENT_FILE_HOURS) == (10, 24)
    client = cast.client("harmed")
    big = b"\0" * (env.MAX_FILE_BYTES + 16)
    answers = [upload(client, talking, big).status_code for _ in range(12)]
    assert answers == [201] * 10 + [409] * 2
    assert Attachment.objects.count() == 10
    # With those gone, the refused ones still counted against the upload limit: eight more, then the rest
    # are turned away before the server reads them.
    Attachment.objects.all().delete()
    answers = [upload(client, talking, big).status_code for _ in range(10)]
    assert answers == [201] * 8 + [429] * 2


def test_it_caps_the_files_waiting_to_be_sent_per_person(cast, talking, settings):
    settings.MEND_UNSENT_FILES_MAX = 3
    client = cast.client("harmed")
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for file_id in ids:
        assert upload(client, talking, file_id=file_id).status_code == 201
    refused = upload(client, talking)
    assert refused.status_code == 409
    assert "3 files waiting to be sent" in refused.json()["error"]
    assert "24 hours" in refused.json()["error"]
    # A retry of one already kept is still answered; another person has their own three.
    assert upload(client, talking, file_id=ids[0]).status_code == 201
    assert upload(cast.client("facilitator"), talking).status_code == 201
    # Sending one with a message frees its place.
    file_id = ids[0]
    ciphertext = bytes(Attachment.objects.get(file_id=file_id).ciphertext)
    assert ciphertext
    envelope = env.seal(
        sender=talking.keys.harmed,
        conversation=talking.support.public_id,
        content={"text": "see attached"},
        recipients=recipients_now(fresh(talking.support)),
        meta={"kind": "message", "files": [file_id]},
    )
    assert send_http(client, talking, envelope).status_code == 201
    assert upload(client, talking).status_code == 201


def test_it_serves_a_file_as_bytes_to_save_never_to_open_or_sniff(cast, talking):
    client = cast.client("harmed")
    file_id = str(uuid.uuid4())
    assert upload(client, talking, b"<html><script>alert(1)</script>", file_id).status_code == 201
    got = client.get(f"{talking.url}files/{file_id}/")
    assert got.status_code == 200
    assert got["Content-Type"] == "application/octet-stream"
    assert got["Content-Disposition"] == "attachment"
    assert got["X-Content-Type-Options"] == "nosniff"


# --- the clean-up job ------------------------------------------------------------------------------


def test_it_deletes_files_never_sent_after_a_day_and_keeps_those_sent(cast, talking):
    from mend.dialogue.tasks import unsent_files_delete

    client = cast.client("harmed")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        orphan, attached = str(uuid.uuid4()), str(uuid.uuid4())
        for file_id in (orphan, attached):
            assert upload(client, talking, file_id=file_id).status_code == 201
        envelope = env.seal(
            sender=talking.keys.harmed,
            conversation=talking.support.public_id,
            content={"text": "see attached"},
            recipients=recipients_now(fresh(talking.support)),
            meta={"kind": "message", "files": [attached]},
        )
        assert send_http(client, talking, envelope).status_code == 201
    with time_machine.travel(start + timedelta(hours=django_settings.MEND_UNSENT_FILE_HOURS - 1), tick=False):
        recent = str(uuid.uuid4())
        assert upload(cast.client("harmed"), talking, file_id=recent).status_code == 201
        assert unsent_files_delete() == 0
    with time_machine.travel(start + timedelta(hours=django_settings.MEND_UNSENT_FILE_HOURS, minutes=1)):
        assert unsent_files_delete() == 1
    assert set(Attachment.objects.values_list("file_id", flat=True)) == {attached, recent}


def test_the_worker_books_the_unsent_files_job_once_and_each_run_books_the_next(cast, talking):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from mend.core.worker import schedule_periodic_jobs
    from mend.dialogue import tasks

    assert tasks.unsent_files_purge.module_path == tasks.TASK_PATH
    schedule_periodic_jobs()
    schedule_periodic_jobs()
    assert DBTaskResult.objects.filter(task_path=tasks.TASK_PATH, status="READY").count() == 1
    call_command("worker", batch=True, verbosity=0)
    assert DBTaskResult.objects.filter(task_path=tasks.TASK_PATH, status="SUCCESSFUL").count() == 1
    following = DBTaskResult.objects.get(task_path=tasks.TASK_PATH, status="READY")
    assert timedelta(minutes=55) < following.run_after - timezone.now() <= tasks.EVERY
