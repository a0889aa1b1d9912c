"""The conversation websocket: only people in the conversation connect; resume, send with an acknowledgment
after storing, live delivery to recipients only, receipts, and clear answers to bad frames."""

import json
import uuid
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from mend.asgi import application
from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from mend.core import envelope as env
from mend.dialogue import services
from mend.dialogue.models import Conversation, Message, Recipient
from tests.builders import consent, prepare_for_encounter
from tests.dialogue.helpers import give_keys, seal

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 3


def cookie_of(client: Client | None) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}" if client else ""


async def connect(cookie: str, public_id: str):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/conversations/{public_id}/",
        headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")],
    )
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


async def frames_until(communicator, frame_type: str) -> list[dict]:
    """Every frame up to and including the first of `frame_type`."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


async def hello(communicator, after: int = 0) -> list[dict]:
    await communicator.send_json_to({"type": "hello", "after": after})
    return await frames_until(communicator, "ready")


def fresh(conversation: Conversation) -> Conversation:
    # A new object each time: who is in a case is cached on the case object for the length of a request.
    return Conversation.objects.select_related("case__program", "party").get(pk=conversation.pk)


def post(conversation, sender_user, keys, text="hello", **kwargs) -> Message:
    message, _created = services.message_post(
        actor=sender_user,
        conversation=fresh(conversation),
        envelope=seal(fresh(conversation), keys, text, **kwargs),
    )
    return message


@pytest.fixture
def support(cast):
    """The person harmed's conversation with their facilitator; both have keys, and contact is consented.
    A co-facilitator is in it too (as all the case's facilitators are) but has no keys yet."""
    consent(cast.harmed, "take_part", "facilitator_contact")
    case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role=Role.CO_FACILITATOR,
    )
    keys = SimpleNamespace(harmed=give_keys(cast.harmed.user), facilitator=give_keys(cast.facilitator))
    conversation = services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    cookies = SimpleNamespace(
        harmed=cookie_of(cast.client("harmed")),
        facilitator=cookie_of(cast.client("facilitator")),
        colleague=cookie_of(cast.client("other_facilitator_same_program")),
    )
    return SimpleNamespace(conversation=conversation, id=conversation.public_id, keys=keys, cookies=cookies)


def run(scenario):
    async_to_sync(scenario)()


# Who may connect.


@pytest.mark.parametrize(
    "who", [None, "outsider", "other_program_facilitator", "coordinator", "admin", "responsible", "supporter"]
)
def test_inv_privacy_it_refuses_a_connection_to_anyone_not_in_the_conversation(cast, support, who):
    # The coordinator and admin run the case but have no facilitator's place in it; the other party and the
    # supporter are in the case but not in this conversation.
    cookie = cookie_of(cast.client(who) if who else None)

    async def scenario():
        _communicator, connected, code = await connect(cookie, support.id)
        assert (connected, code) == (False, 4404)

    run(scenario)


def test_it_answers_a_conversation_that_does_not_exist_like_one_not_yours(cast, support):
    async def scenario():
        _communicator, connected, code = await connect(support.cookies.facilitator, "D-ZZZZ-ZZZZ")
        assert (connected, code) == (False, 4404)

    run(scenario)


def test_it_refuses_staff_whose_second_factor_is_not_checked(cast, support):
    unverified = Client()
    unverified.force_login(cast.facilitator)
    cookie = cookie_of(unverified)

    async def scenario():
        _communicator, connected, code = await connect(cookie, support.id)
        assert (connected, code) == (False, 4404)
        communicator, connected, _code = await connect(support.cookies.facilitator, support.id)
        assert connected
        await communicator.disconnect()

    run(scenario)


def test_it_lets_in_each_person_in_the_conversation(cast, support):
    async def scenario():
        for cookie in (support.cookies.harmed, support.cookies.facilitator, support.cookies.colleague):
            communicator, connected, _code = await connect(cookie, support.id)
            assert connected
            assert await hello(communicator) == [{"type": "ready", "last_seq": 0}]
            await communicator.disconnect()

    run(scenario)


# Resuming.


def test_it_resumes_after_a_sequence_with_exactly_the_messages_for_this_person_in_order(cast, support):
    colleague_keys = None
    # Sent while the co-facilitator had no keys: not encrypted to them, so never theirs to fetch.
    first = post(support.conversation, cast.facilitator, support.keys.facilitator, "one")
    colleague_keys = give_keys(cast.other_facilitator_same_program)
    later = [post(support.conversation, cast.harmed.user, support.keys.harmed, f"n{i}") for i in range(3)]
    assert colleague_keys and [m.seq for m in [first, *later]] == [1, 2, 3, 4]

    async def scenario():
        colleague, connected, _ = await connect(support.cookies.colleague, support.id)
        assert connected
        frames = await hello(colleague, after=0)
        assert [f["type"] for f in frames] == ["message", "message", "message", "ready"]
        assert [f["seq"] for f in frames[:-1]] == [2, 3, 4]
        assert [f["id"] for f in frames[:-1]] == [m.message_id for m in later]
        assert frames[-1] == {"type": "ready", "last_seq": 4}
        assert [f["seq"] for f in (await hello(colleague, after=3))[:-1]] == [4]
        assert await hello(colleague, after=4) == [{"type": "ready", "last_seq": 4}]
        await colleague.disconnect()

        harmed, connected, _ = await connect(support.cookies.harmed, support.id)
        assert connected
        frames = await hello(harmed, after=1)
        assert [f["seq"] for f in frames if f["type"] == "message"] == [2, 3, 4]
        message = frames[0]
        assert message["envelope"] == json.loads(later[0].envelope)
        assert message["from"]["user"] == cast.harmed.user.pk
        assert message["from"]["key_id"] == support.keys.harmed.key_id
        assert env.open_envelope(message["envelope"], support.keys.harmed) == {"text": "n0"}
        await harmed.disconnect()

    run(scenario)


# Sending.


def test_it_acknowledges_only_once_the_message_is_stored_and_delivers_it_live_to_recipients_only(
    cast, support
):
    envelope = seal(fresh(support.conversation), support.keys.harmed, "are you there?")

    async def scenario():
        harmed, _, _ = await connect(support.cookies.harmed, support.id)
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        colleague, _, _ = await connect(support.cookies.colleague, support.id)
        for communicator in (harmed, facilitator, colleague):
            await hello(communicator)

        await harmed.send_json_to({"type": "send", "envelope": envelope})
        ack = next(f for f in await frames_until(harmed, "ack") if f["type"] == "ack")
        assert ack == {"type": "ack", "id": envelope["id"], "seq": 1, "duplicate": False}
        stored = await database_sync_to_async(Message.objects.filter(message_id=envelope["id"]).first)()
        assert stored is not None and stored.seq == 1

        live = await facilitator.receive_json_from(timeout=WAIT)
        assert (live["type"], live["id"], live["seq"]) == ("message", envelope["id"], 1)
        assert live["envelope"] == envelope
        assert env.open_envelope(live["envelope"], support.keys.facilitator) == {"text": "are you there?"}
        # The co-facilitator is in the conversation, but the message was not encrypted to them.
        assert await colleague.receive_nothing(timeout=0.3)
        for communicator in (harmed, facilitator, colleague):
            await communicator.disconnect()

    run(scenario)
    assert set(
        Recipient.objects.filter(message__message_id=envelope["id"]).values_list("user", flat=True)
    ) == {
        cast.harmed.user.pk,
        cast.facilitator.pk,
    }


def test_it_answers_an_identical_resend_with_the_first_sequence_and_delivers_it_once(cast, support):
    envelope = seal(fresh(support.conversation), support.keys.facilitator, "once only")

    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        harmed, _, _ = await connect(support.cookies.harmed, support.id)
        await hello(harmed)
        acks = []
        for _attempt in range(2):
            await facilitator.send_json_to({"type": "send", "envelope": envelope})
            acks += [f for f in await frames_until(facilitator, "ack") if f["type"] == "ack"]
        assert acks == [
            {"type": "ack", "id": envelope["id"], "seq": 1, "duplicate": False},
            {"type": "ack", "id": envelope["id"], "seq": 1, "duplicate": True},
        ]
        assert (await harmed.receive_json_from(timeout=WAIT))["id"] == envelope["id"]
        assert await harmed.receive_nothing(timeout=0.3)
        await facilitator.disconnect()
        await harmed.disconnect()

    run(scenario)
    assert Message.objects.filter(conversation=support.conversation).count() == 1


def _bad_signature(envelope):
    return {**envelope, "sig": env.b64u(bytes(64))}


def _too_few_recipients(envelope):
    return {**envelope, "keys": envelope["keys"][:1]}


def _other_conversation(envelope):
    return {**envelope, "conversation": "D-ZZZZ-ZZZZ"}


def _not_a_dict(envelope):
    return ["not", "an", "envelope"]


@pytest.mark.parametrize(
    ("spoil", "code", "words"),
    [
        (_bad_signature, "signature", "signature does not match"),
        (_too_few_recipients, "recipients", "Reload it and send again"),
        (_other_conversation, "form", "another conversation"),
        (_not_a_dict, "form", "JSON object"),
    ],
)
def test_it_refuses_an_envelope_with_the_check_it_failed_and_stores_nothing(
    cast, support, spoil, code, words
):
    envelope = spoil(seal(fresh(support.conversation), support.keys.facilitator, "spoiled"))

    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        await facilitator.send_json_to({"type": "send", "envelope": envelope})
        frame = await facilitator.receive_json_from(timeout=WAIT)
        assert frame["type"] == "refused"
        assert frame["code"] == code
        assert words in frame["error"]
        await facilitator.disconnect()

    run(scenario)
    assert not Message.objects.exists()


def test_it_refuses_a_replayed_id_with_other_content(cast, support):
    message_id = str(uuid.uuid4())
    post(support.conversation, cast.facilitator, support.keys.facilitator, "first", message_id=message_id)
    other = seal(fresh(support.conversation), support.keys.facilitator, "second", message_id=message_id)

    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        await facilitator.send_json_to({"type": "send", "envelope": other})
        frame = await facilitator.receive_json_from(timeout=WAIT)
        assert (frame["type"], frame["id"], frame["code"]) == ("refused", message_id, "conflict")
        assert "other content" in frame["error"]
        await facilitator.disconnect()

    run(scenario)
    assert Message.objects.get(message_id=message_id).seq == 1


def test_it_tells_a_party_calmly_that_writing_is_paused_without_naming_why(cast, support):
    from mend.consent.services import consent_withdraw

    consent_withdraw(
        actor=cast.harmed.user,
        place=Participant.objects.get(pk=cast.harmed.pk),
        scope="facilitator_contact",
    )
    envelope = seal(fresh(support.conversation), support.keys.harmed, "still here?")

    async def scenario():
        harmed, connected, _ = await connect(support.cookies.harmed, support.id)
        assert connected  # still in the conversation, and its history
        await harmed.send_json_to({"type": "send", "envelope": envelope})
        frame = await harmed.receive_json_from(timeout=WAIT)
        assert (frame["type"], frame["code"]) == ("refused", "not_now")
        assert "paused for now" in frame["error"]
        assert "consent" not in frame["error"]
        await harmed.disconnect()

    run(scenario)
    assert not Message.objects.exists()


# Frames the server cannot use.


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("not json at all", "JSON object"),
        ("[1, 2]", "JSON object"),
        ('"hello"', "JSON object"),
        ('{"type": "dance"}', "hello, send, receipt, members"),
        ('{"type": ["hello"]}', "hello, send, receipt, members"),
        ('{"after": 0}', "hello, send, receipt, members"),
        ('{"type": "hello", "after": -1}', "last sequence number"),
        ('{"type": "hello", "after": "3"}', "last sequence number"),
        ('{"type": "hello", "after": true}', "last sequence number"),
        ('{"type": "hello", "after": 1.5}', "last sequence number"),
        ('{"type": "hello", "after": 99999999999999999999}', "last sequence number"),
        ("[" * 100_000 + "]" * 100_000, "JSON object"),  # nesting too deep for the parser
        ('{"type": "receipt"}', "message id and a kind"),
        ('{"type": "receipt", "id": "x", "kind": "seen"}', "message id and a kind"),
        ('{"type": "receipt", "id": 7, "kind": "read"}', "message id and a kind"),
        (
            '{"type": "receipt", "id": "0b6f8b9e-51e3-4c1a-9d1a-2f2b3c4d5e6f", "kind": "read"}',
            "no such message",
        ),
        ('{"type": "members", "kind": "gossip"}', "members.kind"),
    ],
)
def test_it_answers_a_frame_it_cannot_use_with_an_error_and_keeps_the_connection(cast, support, raw, words):
    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        await facilitator.send_to(text_data=raw)
        frame = await facilitator.receive_json_from(timeout=WAIT)
        assert frame["type"] == "error"
        assert words in frame["error"]
        # Still open and answering.
        assert await hello(facilitator) == [{"type": "ready", "last_seq": 0}]
        await facilitator.disconnect()

    run(scenario)


def test_it_answers_a_binary_frame_with_an_error(cast, support):
    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        await facilitator.send_to(bytes_data=b"\x00\x01")
        assert (await facilitator.receive_json_from(timeout=WAIT))["type"] == "error"
        await facilitator.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "frame", [{"type": "send"}, {"type": "send", "envelope": "text"}, {"type": "send", "envelope": {}}]
)
def test_it_refuses_a_send_without_an_envelope_as_a_form_error(cast, support, frame):
    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        await facilitator.send_json_to(frame)
        answer = await facilitator.receive_json_from(timeout=WAIT)
        assert (answer["type"], answer["code"]) == ("refused", "form")
        await facilitator.disconnect()

    run(scenario)


# Members and receipts.


def test_it_answers_members_with_their_keys_and_whether_one_may_write(cast, support):
    async def scenario():
        harmed, _, _ = await connect(support.cookies.harmed, support.id)
        await harmed.send_json_to({"type": "members"})
        frame = await harmed.receive_json_from(timeout=WAIT)
        assert frame["type"] == "members"
        assert (frame["kind"], frame["can_write"], frame["why"]) == ("message", True, "")
        by_user = {m["user"]: m for m in frame["members"]}
        assert set(by_user) == {
            cast.harmed.user.pk,
            cast.facilitator.pk,
            cast.other_facilitator_same_program.pk,
        }
        assert by_user[cast.facilitator.pk]["key_id"] == support.keys.facilitator.key_id
        assert by_user[cast.other_facilitator_same_program.pk]["key_id"] is None
        assert by_user[cast.harmed.user.pk]["name"] == "Wren"
        await harmed.send_json_to({"type": "members", "kind": "relayed"})
        frame = await harmed.receive_json_from(timeout=WAIT)
        assert (frame["kind"], frame["can_write"]) == ("relayed", False)
        await harmed.disconnect()

    run(scenario)


def test_it_tells_the_sender_when_a_message_is_delivered_and_read(cast, support):
    message = post(support.conversation, cast.facilitator, support.keys.facilitator, "how are you?")

    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        harmed, _, _ = await connect(support.cookies.harmed, support.id)
        await hello(facilitator)
        for kind in ("delivered", "read"):
            await harmed.send_json_to({"type": "receipt", "id": message.message_id, "kind": kind})
            frame = await facilitator.receive_json_from(timeout=WAIT)
            assert frame == {
                "type": "receipt",
                "id": message.message_id,
                "user": cast.harmed.user.pk,
                "kind": kind,
            }
        # A repeated receipt changes nothing and is not told again.
        await harmed.send_json_to({"type": "receipt", "id": message.message_id, "kind": "read"})
        assert await facilitator.receive_nothing(timeout=0.3)
        await facilitator.disconnect()
        # Coming back, the sender learns the receipts with the backlog.
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        frames = await hello(facilitator)
        assert {
            "type": "receipt",
            "id": message.message_id,
            "user": cast.harmed.user.pk,
            "kind": "read",
        } in frames
        await facilitator.disconnect()
        await harmed.disconnect()

    run(scenario)
    row = Recipient.objects.get(message=message, user=cast.harmed.user)
    assert row.delivered_at is not None and row.read_at is not None


def test_it_keeps_and_tells_no_receipt_of_either_kind_from_someone_who_turned_them_off(cast, support):
    services.read_receipts_set(actor=cast.harmed.user, place=cast.harmed, shown=False)
    message = post(support.conversation, cast.facilitator, support.keys.facilitator, "take your time")

    async def scenario():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        harmed, _, _ = await connect(support.cookies.harmed, support.id)
        for kind in ("delivered", "read"):
            await harmed.send_json_to({"type": "receipt", "id": message.message_id, "kind": kind})
            assert await facilitator.receive_nothing(timeout=0.3)
        await facilitator.disconnect()
        # Nor does the sender learn of a delivery with the backlog when coming back.
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        assert [f for f in await hello(facilitator) if f["type"] == "receipt"] == []
        await facilitator.disconnect()
        await harmed.disconnect()

    run(scenario)
    row = Recipient.objects.get(message=message, user=cast.harmed.user)
    assert row.delivered_at is None and row.read_at is None


def test_it_hides_earlier_receipts_once_the_reader_turns_receipts_off(cast, support):
    message = post(support.conversation, cast.facilitator, support.keys.facilitator, "thinking of you")
    services.receipt_record(actor=cast.harmed.user, message_id=message.message_id, kind="read")

    async def receipts_seen():
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        frames = await hello(facilitator)
        await facilitator.disconnect()
        return [(f["user"], f["kind"]) for f in frames if f["type"] == "receipt"]

    assert async_to_sync(receipts_seen)() == [(cast.harmed.user.pk, "read")]
    services.read_receipts_set(actor=cast.harmed.user, place=cast.harmed, shown=False)
    assert async_to_sync(receipts_seen)() == []


# Leaving mid-connection.


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "hello", "after": 0},
        {"type": "members"},
        {"type": "send", "envelope": None},
        {"type": "receipt", "id": "MESSAGE", "kind": "read"},
    ],
    ids=lambda frame: frame["type"],
)
def test_it_closes_the_connection_of_someone_removed_from_the_case_at_their_next_frame(cast, support, frame):
    colleague_keys = give_keys(cast.other_facilitator_same_program)
    message = post(support.conversation, cast.harmed.user, support.keys.harmed, "for the team")
    assert colleague_keys
    if frame.get("id") == "MESSAGE":
        frame = {**frame, "id": message.message_id}

    async def scenario():
        colleague, connected, _ = await connect(support.cookies.colleague, support.id)
        assert connected
        await database_sync_to_async(
            Participant.objects.filter(case=cast.case, user=cast.other_facilitator_same_program).update
        )(removed_at=timezone.now())
        await colleague.send_json_to(frame)
        answer = await colleague.receive_json_from(timeout=WAIT)
        assert answer["type"] == "error"
        assert "no longer in this conversation" in answer["error"]
        assert await colleague.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4404}

    run(scenario)
    row = Recipient.objects.get(message=message, user=cast.other_facilitator_same_program)
    assert row.read_at is None and row.delivered_at is None


def test_it_passes_on_relay_state_changes_to_the_writer_live(cast):
    """A facilitator returning a party's message: the writer's open page hears that it was returned."""
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    keys = SimpleNamespace(
        responsible=give_keys(cast.responsible.user), facilitator=give_keys(cast.facilitator)
    )
    relay = services.conversation_open(case=cast.case, kind="relay", party=cast.responsible)
    draft = post(relay, cast.responsible.user, keys.responsible, "I am sorry", meta={"kind": "for_relay"})
    note = seal(
        fresh(relay), keys.facilitator, "Say more?", meta={"kind": "returned", "ref": draft.message_id}
    )
    cookies = [cookie_of(cast.client(who)) for who in ("responsible", "facilitator")]

    async def scenario():
        writer, connected, _ = await connect(cookies[0], relay.public_id)
        assert connected
        facilitator, _, _ = await connect(cookies[1], relay.public_id)
        await facilitator.send_json_to({"type": "send", "envelope": note})
        assert [f for f in await frames_until(facilitator, "ack") if f["type"] == "ack"][0]["seq"] == 2
        frames = [await writer.receive_json_from(timeout=WAIT) for _ in range(2)]
        assert {"type": "state", "id": draft.message_id, "relay_state": "returned"} in frames
        returned = next(f for f in frames if f["type"] == "message")
        assert (returned["kind"], returned["ref"]) == ("returned", draft.message_id)
        assert env.open_envelope(returned["envelope"], keys.responsible) == {"text": "Say more?"}
        await writer.disconnect()
        await facilitator.disconnect()

    run(scenario)


def test_inv_privacy_it_tells_no_relay_state_to_someone_no_longer_in_the_conversation(cast, support):
    from channels.layers import get_channel_layer

    async def scenario():
        colleague, connected, _ = await connect(support.cookies.colleague, support.id)
        assert connected
        await database_sync_to_async(
            Participant.objects.filter(case=cast.case, user=cast.other_facilitator_same_program).update
        )(removed_at=timezone.now())
        # Signed in still, but out of the case: the next relay state change is not theirs to hear.
        await get_channel_layer().group_send(
            services.conversation_group(support.conversation.pk),
            {"type": "dialogue.state", "id": "some-message", "relay_state": "returned"},
        )
        answer = await colleague.receive_json_from(timeout=WAIT)
        assert answer["type"] == "error" and "no longer in this conversation" in answer["error"]
        assert await colleague.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4404}

    run(scenario)


# Signing out.


def test_it_closes_the_socket_when_the_person_signs_out_anywhere(cast, support):
    client = cast.client("harmed")

    async def scenario():
        communicator, connected, _code = await connect(cookie_of(client), support.id)
        assert connected
        await hello(communicator)
        # Signing out on another tab (or by the quick exit) reaches this socket at once.
        await database_sync_to_async(client.post)("/account/sign-out/")
        assert await communicator.receive_json_from(timeout=WAIT) == {
            "type": "error",
            "error": "You have signed out.",
        }
        assert (await communicator.receive_output(timeout=WAIT)) == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_it_closes_the_socket_on_the_next_frame_once_the_session_is_gone(cast, support):
    client = cast.client("facilitator")

    async def scenario():
        communicator, connected, _code = await connect(cookie_of(client), support.id)
        assert connected
        await hello(communicator)
        # A session that ended without a sign-out event (expired, or removed by an administrator).
        await database_sync_to_async(client.session.delete)()
        await communicator.send_json_to({"type": "hello", "after": 0})
        assert (await communicator.receive_json_from(timeout=WAIT))["error"] == (
            "You are no longer in this conversation."
        )
        assert (await communicator.receive_output(timeout=WAIT)) == {"type": "websocket.close", "code": 4404}

    run(scenario)


# Each send frame is checked afresh, however long the socket has been open (one trip to the database thread).


async def sent(communicator, envelope) -> dict:
    """The answer to a send frame: its ack or refusal (the sender's own copy of a message may follow)."""
    await communicator.send_json_to({"type": "send", "envelope": envelope})
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] in ("ack", "refused", "error"):
            return frame


def test_inv_voluntary_it_refuses_a_send_on_an_open_socket_once_consent_is_withdrawn(cast, support):
    from mend.consent.services import consent_withdraw

    first = seal(fresh(support.conversation), support.keys.harmed, "before")
    second = seal(fresh(support.conversation), support.keys.harmed, "after")

    async def scenario():
        harmed, connected, _ = await connect(support.cookies.harmed, support.id)
        assert connected
        assert (await sent(harmed, first))["type"] == "ack"
        await database_sync_to_async(consent_withdraw)(
            actor=cast.harmed.user,
            place=await database_sync_to_async(Participant.objects.get)(pk=cast.harmed.pk),
            scope="facilitator_contact",
        )
        answer = await sent(harmed, second)
        assert (answer["type"], answer["id"], answer["code"]) == ("refused", second["id"], "not_now")
        await harmed.disconnect()

    run(scenario)
    assert list(Message.objects.values_list("message_id", flat=True)) == [first["id"]]


def test_inv_voluntary_it_refuses_a_send_on_an_open_socket_once_the_case_is_paused(cast):
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    keys = give_keys(cast.responsible.user)
    give_keys(cast.facilitator)
    relay = services.conversation_open(case=cast.case, kind="relay", party=cast.responsible)
    first, second = (
        seal(fresh(relay), keys, text, meta={"kind": "for_relay", "approved": True})
        for text in ("one", "two")
    )
    cookie = cookie_of(cast.client("responsible"))

    async def scenario():
        writer, connected, _ = await connect(cookie, relay.public_id)
        assert connected
        assert (await sent(writer, first))["type"] == "ack"
        await database_sync_to_async(case_services.case_transition)(
            actor=cast.facilitator, case=cast.case, action="pause"
        )
        answer = await sent(writer, second)
        assert (answer["type"], answer["code"]) == ("refused", "not_now")
        assert "paused for now" in answer["error"]
        await writer.disconnect()

    run(scenario)
    assert list(Message.objects.values_list("message_id", flat=True)) == [first["id"]]


def test_it_closes_the_socket_at_a_send_once_the_session_is_gone_and_stores_nothing(cast, support):
    client = cast.client("harmed")
    first = seal(fresh(support.conversation), support.keys.harmed, "before")
    second = seal(fresh(support.conversation), support.keys.harmed, "after")

    async def scenario():
        harmed, connected, _ = await connect(cookie_of(client), support.id)
        assert connected
        assert (await sent(harmed, first))["type"] == "ack"
        await database_sync_to_async(client.session.delete)()
        answer = await sent(harmed, second)
        assert answer == {"type": "error", "error": "You are no longer in this conversation."}
        assert await harmed.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4404}

    run(scenario)
    assert list(Message.objects.values_list("message_id", flat=True)) == [first["id"]]


@pytest.mark.parametrize("again", ["new", "replay"])
def test_inv_privacy_it_closes_the_socket_of_someone_removed_at_their_next_send_even_a_replay(
    cast, support, again
):
    keys = give_keys(cast.other_facilitator_same_program)
    first, second = (seal(fresh(support.conversation), keys, text) for text in ("before", "after"))

    async def scenario():
        colleague, connected, _ = await connect(support.cookies.colleague, support.id)
        assert connected
        assert (await sent(colleague, first))["type"] == "ack"
        await database_sync_to_async(
            Participant.objects.filter(case=cast.case, user=cast.other_facilitator_same_program).update
        )(removed_at=timezone.now())
        # A replay is answered with its ack only while the sender is still in the conversation.
        answer = await sent(colleague, first if again == "replay" else second)
        assert answer == {"type": "error", "error": "You are no longer in this conversation."}
        assert await colleague.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4404}

    run(scenario)
    assert list(Message.objects.values_list("message_id", flat=True)) == [first["id"]]


def test_inv_confidentiality_it_refuses_a_send_sealed_to_keys_replaced_since_the_last_one(cast, support):
    first = seal(fresh(support.conversation), support.keys.harmed, "before")
    stale = seal(fresh(support.conversation), support.keys.harmed, "after")

    async def scenario():
        harmed, connected, _ = await connect(support.cookies.harmed, support.id)
        assert connected
        assert (await sent(harmed, first))["type"] == "ack"
        # The facilitator restores their keys on a new device: what is sealed to the old ones is refused.
        await database_sync_to_async(give_keys)(cast.facilitator)
        answer = await sent(harmed, stale)
        assert (answer["type"], answer["code"]) == ("refused", "recipients")
        await harmed.disconnect()

    run(scenario)
    assert list(Message.objects.values_list("message_id", flat=True)) == [first["id"]]


def test_it_makes_one_trip_to_the_database_thread_for_a_send_and_one_for_a_receipt(
    cast, support, monkeypatch
):
    from channels.db import DatabaseSyncToAsync

    trips = []
    handler = DatabaseSyncToAsync.thread_handler

    def counted(self, loop, *args, **kwargs):
        trips.append(getattr(self.func, "__name__", "?"))
        return handler(self, loop, *args, **kwargs)

    monkeypatch.setattr(DatabaseSyncToAsync, "thread_handler", counted)
    envelope = seal(fresh(support.conversation), support.keys.harmed, "one trip")

    async def scenario():
        harmed, _, _ = await connect(support.cookies.harmed, support.id)
        facilitator, _, _ = await connect(support.cookies.facilitator, support.id)
        await hello(facilitator)
        trips.clear()
        assert (await sent(harmed, envelope))["type"] == "ack"
        assert (await facilitator.receive_json_from(timeout=WAIT))["id"] == envelope["id"]
        # Besides, each receiving socket checks its person once before it delivers (_may_deliver: signed in,
        # account active, session auth hash unchanged; docs/hardening.md, "Offboarding").
        assert [t for t in trips if t != "_may_deliver"] == ["_post"], trips
        trips.clear()
        await facilitator.send_json_to({"type": "receipt", "id": envelope["id"], "kind": "read"})
        frames = await frames_until(harmed, "receipt")
        assert frames[-1]["kind"] == "read"
        assert len([t for t in trips if t != "_may_deliver"]) == 1, trips
        await harmed.disconnect()
        await facilitator.disconnect()

    run(scenario)


def test_a_socket_speaks_the_language_its_person_reads_mend_in(cast, support):
    """Issue 17: what a socket says is in the signed-in person's language, as their pages are."""
    from django.utils import translation

    from mend.accounts.models import User

    give_keys(cast.other_facilitator_same_program)
    User.objects.filter(pk=cast.other_facilitator_same_program.pk).update(language="es")

    async def scenario():
        colleague, connected, _ = await connect(support.cookies.colleague, support.id)
        assert connected
        await database_sync_to_async(
            Participant.objects.filter(case=cast.case, user=cast.other_facilitator_same_program).update
        )(removed_at=timezone.now())
        await colleague.send_json_to({"type": "members"})
        return await colleague.receive_json_from(timeout=WAIT)

    answer = async_to_sync(scenario)()
    with translation.override("es"):
        spanish = translation.gettext("You are no longer in this conversation.")
    assert spanish != "You are no longer in this conversation."
    assert answer["error"] == spanish
