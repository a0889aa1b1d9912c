"""The conversation pages and their small JSON endpoints: who sees which conversation, sending, files,
read receipts. Outsiders get the same 404 everywhere."""

import html
import json
import re
import uuid
from types import SimpleNamespace

import pytest

from mend.cases import services as case_services
from mend.cases.models import Participant, Role
from mend.consent import services as consent_services
from mend.core import envelope as env
from mend.dialogue import services
from mend.dialogue.models import Attachment, Conversation, Message
from tests.builders import consent, prepare_for_encounter
from tests.dialogue.helpers import give_keys, recipients_now, seal

STRANGERS = ("outsider", "other_program_facilitator", "other_facilitator_same_program", "volunteer")


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("case__program", "party").get(pk=conversation.pk)


def text(response) -> str:
    return html.unescape(response.content.decode())


def kinds_listed(response) -> list[tuple[str, str]]:
    """(kind, title) of each conversation linked from the list page."""
    return [
        (kind, html.unescape(title))
        for kind, title in re.findall(r'data-kind="(\w+)">([^<]+)</a>', response.content.decode())
    ]


def conversation(cast, kind: str, party=None) -> Conversation:
    return services.conversation_open(case=cast.case, kind=kind, party=party)


def choose(cast, mode: str) -> None:
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=Participant.objects.get(pk=cast.harmed.pk),
        mode=mode,
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="never",
    )


def messages_url(cast, rest: str = "") -> str:
    return f"/cases/{cast.case.reference}/messages/{rest}"


@pytest.fixture
def talking(cast):
    """The person harmed and their facilitator, with keys and consent to be in touch."""
    consent(cast.harmed, "take_part", "facilitator_contact")
    keys = SimpleNamespace(harmed=give_keys(cast.harmed.user), facilitator=give_keys(cast.facilitator))
    support = conversation(cast, "support", cast.harmed)
    return SimpleNamespace(keys=keys, support=support)


@pytest.fixture
def relaying(cast):
    """An indirect exchange under way: the encounter has begun, everyone has keys."""
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    keys = SimpleNamespace(
        harmed=give_keys(cast.harmed.user),
        responsible=give_keys(cast.responsible.user),
        facilitator=give_keys(cast.facilitator),
    )
    return SimpleNamespace(
        keys=keys,
        relay_responsible=conversation(cast, "relay", cast.responsible),
        relay_harmed=conversation(cast, "relay", cast.harmed),
        direct=conversation(cast, "direct"),
    )


def post(conversation, user, keys, text="hello", *, files=None, **kwargs) -> Message:
    if files:
        envelope = env.seal(
            sender=keys,
            conversation=conversation.public_id,
            content={"text": text, "files": files},
            recipients=recipients_now(fresh(conversation)),
            meta={"kind": "message", "files": [f["id"] for f in files]},
        )
    else:
        envelope = seal(fresh(conversation), keys, text, **kwargs)
    message, _created = services.message_post(actor=user, conversation=fresh(conversation), envelope=envelope)
    return message


# The list of conversations.


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("harmed", [("support", "You and your facilitator"), ("relay", "Messages through your facilitator")]),
        (
            "responsible",
            [("support", "You and your facilitator"), ("relay", "Messages through your facilitator")],
        ),
        ("supporter", [("support", "You and your facilitator")]),
        ("admin", []),  # runs the program, but has no place in the case's conversations
        ("coordinator", []),
    ],
)
def test_it_lists_the_conversations_each_person_has_in_the_case(cast, who, expected):
    response = cast.client(who).get(messages_url(cast))
    assert response.status_code == 200
    assert kinds_listed(response) == expected
    assert 'data-testid="relay-queue' not in text(response)


def test_it_lists_every_conversation_of_the_case_for_its_facilitator(cast):
    response = cast.client("facilitator").get(messages_url(cast))
    assert response.status_code == 200
    assert kinds_listed(response) == [
        ("team", "Case team"),
        ("support", "With Wren"),
        ("support", "With Kestrel"),
        ("support", "With Alder"),
        ("relay", "Exchange through the facilitator: person harmed Wren"),
        ("relay", "Exchange through the facilitator: person responsible Kestrel"),
        ("direct", "Direct conversation"),
    ]
    assert 'data-testid="relay-queue-empty"' in text(response)


@pytest.mark.parametrize("who", ["harmed", "responsible"])
def test_it_lists_the_direct_conversation_for_the_parties_only_once_direct_contact_is_chosen(cast, who):
    assert "direct" not in [kind for kind, _title in kinds_listed(cast.client(who).get(messages_url(cast)))]
    choose(cast, "direct")
    assert ("direct", "Direct conversation") in kinds_listed(cast.client(who).get(messages_url(cast)))
    choose(cast, "indirect")
    assert "direct" not in [kind for kind, _title in kinds_listed(cast.client(who).get(messages_url(cast)))]


@pytest.mark.parametrize("who", STRANGERS)
def test_inv_privacy_it_shows_strangers_no_list_of_conversations(cast, who):
    response = cast.client(who).get(messages_url(cast))
    assert response.status_code == 404
    assert cast.case.reference not in text(response)


def test_it_sends_someone_not_signed_in_to_sign_in(cast):
    from django.test import Client

    response = Client().get(messages_url(cast))
    assert response.status_code == 302
    assert response["Location"].startswith("/account/sign-in/")


def test_it_shows_the_relay_queue_to_facilitators_as_metadata_only(cast, relaying):
    draft = post(
        relaying.relay_responsible,
        cast.responsible.user,
        relaying.keys.responsible,
        "a canary phrase: marmalade lighthouse",
        meta={"kind": "for_relay"},
    )
    page = text(cast.client("facilitator").get(messages_url(cast)))
    queue = re.search(r'<ul data-testid="relay-queue">(.*?)</ul>', page, re.S)
    assert queue, "the pending message should be in the relay queue"
    assert "From <bdi>Kestrel</bdi>" in queue.group(1)
    assert "for you only" in queue.group(1)  # not yet approved by its writer for passing on
    assert f"/messages/{relaying.relay_responsible.public_id}/" in queue.group(1)
    stored = json.loads(draft.envelope)
    for secret in ("marmalade", stored["body"], stored["keys"][0]["ck"], draft.message_id):
        assert secret not in page
    for who in ("responsible", "harmed"):
        assert "relay-queue" not in text(cast.client(who).get(messages_url(cast)))

    post(
        relaying.relay_responsible,
        cast.facilitator,
        relaying.keys.facilitator,
        "Could you say more?",
        meta={"kind": "returned", "ref": draft.message_id},
    )
    page = text(cast.client("facilitator").get(messages_url(cast)))
    assert 'data-testid="relay-queue-empty"' in page


# One conversation's page.


def test_it_shows_each_conversation_only_to_the_people_in_it(cast):
    expected = {
        ("support", "harmed"): {"harmed", "facilitator"},
        ("support", "responsible"): {"responsible", "facilitator"},
        ("support", "supporter"): {"supporter", "facilitator"},
        ("relay", "harmed"): {"harmed", "facilitator"},
        ("relay", "responsible"): {"responsible", "facilitator"},
        ("team", None): {"facilitator"},
        ("direct", None): {"facilitator"},  # nobody chose direct contact
    }
    everyone = ("harmed", "responsible", "supporter", "facilitator", "admin", "coordinator", *STRANGERS)
    clients = {who: cast.client(who) for who in everyone}
    for (kind, owner), allowed in expected.items():
        found = conversation(cast, kind, getattr(cast, owner) if owner else None)
        for who in everyone:
            response = clients[who].get(messages_url(cast, f"{found.public_id}/"))
            assert response.status_code == (200 if who in allowed else 404), (kind, owner, who)


@pytest.mark.parametrize("who", ["responsible", "harmed"])
def test_inv_survivor_centered_the_direct_conversation_is_closed_to_the_parties_when_indirect_was_chosen(
    cast, who
):
    direct = conversation(cast, "direct")
    path = messages_url(cast, f"{direct.public_id}/")
    choose(cast, "direct")
    assert cast.client(who).get(path).status_code == 200
    choose(cast, "indirect")
    for endpoint in ("", "members/"):
        assert cast.client(who).get(path + endpoint).status_code == 404
    assert cast.client(who).post(path + "send/", "{}", content_type="application/json").status_code == 404


def test_it_answers_a_conversation_of_another_case_with_404(cast):
    outsider_case = Participant.objects.get(user=cast.outsider).case
    theirs = services.conversation_open(
        case=outsider_case, kind="support", party=Participant.objects.get(user=cast.outsider)
    )
    # The outsider's own conversation, named under a case they are not in, and the case's facilitator asking
    # for it under their own case.
    assert cast.client("outsider").get(messages_url(cast, f"{theirs.public_id}/")).status_code == 404
    assert cast.client("facilitator").get(messages_url(cast, f"{theirs.public_id}/")).status_code == 404
    mine = f"/cases/{outsider_case.reference}/messages/{theirs.public_id}/"
    assert cast.client("outsider").get(mine).status_code == 200


def test_it_shows_a_party_the_composer_with_the_language_guide_in_the_exchange(cast, relaying):
    page = text(
        cast.client("responsible").get(messages_url(cast, f"{relaying.relay_responsible.public_id}/"))
    )
    assert 'data-kind="for_relay"' in page
    assert "data-guide" in page
    assert "data-composer" in page
    assert "Your facilitator reads it first." in page
    assert "My facilitator may pass this on" in page
    # A safety code with each other person, which the browser works out from both people's keys.
    codes = re.search(r'data-testid="safety-codes"[^>]*>(.*?)</dl>', page, re.S).group(1)
    assert "Your safety code with <bdi>Fen Facilitator</bdi>" in codes
    assert "Kestrel" not in codes


def test_it_shows_no_language_guide_to_the_person_harmed(cast, relaying):
    page = text(cast.client("harmed").get(messages_url(cast, f"{relaying.relay_harmed.public_id}/")))
    assert 'data-kind="for_relay"' in page
    assert "data-guide" not in page


def test_it_tells_a_party_calmly_why_they_cannot_write_and_a_facilitator_what_is_missing(cast):
    relay = conversation(cast, "relay", cast.responsible)
    party = text(cast.client("responsible").get(messages_url(cast, f"{relay.public_id}/")))
    assert "data-composer" not in party
    notice = re.search(r'<p class="notice" data-testid="cannot-write">(.*?)</p>', party, re.S).group(1)
    assert "paused for now" in notice
    assert "Wren" not in notice and "consent" not in notice

    facilitator = text(cast.client("facilitator").get(messages_url(cast, f"{relay.public_id}/")))
    # In the exchange a facilitator does not write: they return or pass on what the party wrote.
    assert "Return it with a note, or pass it on once they have agreed." in facilitator
    assert "cannot-write" not in facilitator
    support = text(
        cast.client("facilitator").get(
            messages_url(cast, f"{conversation(cast, 'support', cast.responsible).public_id}/")
        )
    )
    # Each consent missing named on its own (issue 16).
    assert (
        "Still needed: consent to take part from the person responsible (Kestrel); consent of the person "
        "responsible (Kestrel) to be contacted by the facilitator." in support
    )
    team = text(
        cast.client("facilitator").get(messages_url(cast, f"{conversation(cast, 'team').public_id}/"))
    )
    assert "data-composer" in team


# The members endpoint.


def test_it_gives_the_members_with_their_keys_and_whether_one_may_write(cast, talking):
    response = cast.client("harmed").get(messages_url(cast, f"{talking.support.public_id}/members/"))
    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["can_write"], body["why"]) == ("message", True, "")
    by_user = {m["user"]: m for m in body["members"]}
    assert set(by_user) == {cast.harmed.user.pk, cast.facilitator.pk}
    assert by_user[cast.facilitator.pk]["key_id"] == talking.keys.facilitator.key_id
    assert by_user[cast.facilitator.pk]["name"] == "Fen Facilitator"
    assert by_user[cast.harmed.user.pk]["name"] == "Wren"


def test_it_says_which_kinds_the_members_endpoint_takes(cast, talking):
    response = cast.client("harmed").get(
        messages_url(cast, f"{talking.support.public_id}/members/?kind=shout")
    )
    assert response.status_code == 400
    assert "message, for_relay, relayed, returned" in response.json()["error"]


@pytest.mark.parametrize("who", [*STRANGERS, "responsible", "coordinator"])
def test_inv_privacy_it_gives_no_members_of_a_conversation_to_those_outside_it(cast, talking, who):
    response = cast.client(who).get(messages_url(cast, f"{talking.support.public_id}/members/"))
    assert response.status_code == 404


# Sending over HTTP.


def send(client, cast, conversation, body):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        messages_url(cast, f"{conversation.public_id}/send/"), raw, content_type="application/json"
    )


def test_it_stores_a_sent_envelope_and_answers_a_resend_with_its_sequence(cast, talking):
    envelope = seal(fresh(talking.support), talking.keys.harmed, "hello there")
    client = cast.client("harmed")
    first = send(client, cast, talking.support, envelope)
    assert (first.status_code, first.json()) == (201, {"id": envelope["id"], "seq": 1, "duplicate": False})
    again = send(client, cast, talking.support, envelope)
    assert (again.status_code, again.json()) == (200, {"id": envelope["id"], "seq": 1, "duplicate": True})
    stored = Message.objects.get(message_id=envelope["id"])
    assert json.loads(stored.envelope) == envelope
    assert stored.sender == cast.harmed.user


def test_it_refuses_the_same_id_with_other_content_with_409(cast, talking):
    envelope = seal(fresh(talking.support), talking.keys.harmed, "first words")
    client = cast.client("harmed")
    assert send(client, cast, talking.support, envelope).status_code == 201
    other = seal(fresh(talking.support), talking.keys.harmed, "other words", message_id=envelope["id"])
    response = send(client, cast, talking.support, other)
    assert response.status_code == 409
    assert "other content" in response.json()["error"]
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ("{not json", "form", "Send the envelope as JSON."),
        ("[" * 100_000 + "]" * 100_000, "form", "Send the envelope as JSON."),
        ("null", "form", "JSON object"),
        ("[]", "form", "JSON object"),
        ({"v": 1}, "form", "missing"),
        ("BAD_SIGNATURE", "signature", "signature does not match"),
        ("TOO_FEW", "recipients", "Reload it and send again"),
        ("OTHER_CONVERSATION", "form", "another conversation"),
    ],
)
def test_it_refuses_a_bad_envelope_with_400_and_says_why(cast, talking, body, code, words):
    good = seal(fresh(talking.support), talking.keys.harmed, "spoiled")
    body = (
        {
            "BAD_SIGNATURE": {**good, "sig": env.b64u(bytes(64))},
            "TOO_FEW": {**good, "keys": good["keys"][:1]},
            "OTHER_CONVERSATION": {**good, "conversation": "D-ZZZZ-ZZZZ"},
        }.get(body, body)
        if isinstance(body, str)
        else body
    )
    response = send(cast.client("harmed"), cast, talking.support, body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert words in response.json()["error"]
    assert not Message.objects.exists()


def test_it_refuses_with_a_calm_word_when_the_party_may_not_write_now(cast, talking):
    consent_services.consent_withdraw(
        actor=cast.harmed.user, place=Participant.objects.get(pk=cast.harmed.pk), scope="facilitator_contact"
    )
    envelope = seal(fresh(talking.support), talking.keys.harmed, "still here")
    response = send(cast.client("harmed"), cast, talking.support, envelope)
    assert response.status_code == 400
    assert response.json()["code"] == "not_now"
    assert "paused for now" in response.json()["error"]


@pytest.mark.parametrize("who", [*STRANGERS, "responsible", "supporter", "coordinator"])
def test_inv_privacy_it_takes_no_message_from_those_outside_the_conversation(cast, talking, who):
    envelope = seal(fresh(talking.support), talking.keys.harmed, "not theirs")
    response = send(cast.client(who), cast, talking.support, envelope)
    assert response.status_code == 404
    assert not Message.objects.exists()


# Files.


def upload(client, cast, conversation, data: bytes, file_id: str):
    return client.post(
        messages_url(cast, f"{conversation.public_id}/files/"),
        data,
        content_type="application/octet-stream",
        headers={"X-File-Id": file_id},
    )


def download(client, cast, file_id: str, reference=None):
    return client.get(f"/cases/{reference or cast.case.reference}/messages/files/{file_id}/")


def test_it_keeps_an_encrypted_file_and_gives_it_to_the_uploader_and_the_recipients_only(cast, talking):
    case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role=Role.CO_FACILITATOR,
    )  # in the conversation, with no keys: not a recipient
    file_id = str(uuid.uuid4())
    ciphertext, entry = env.encrypt_file(
        b"%PDF-1.4 screenshot", conversation=talking.support.public_id, file_id=file_id
    )
    response = upload(cast.client("harmed"), cast, talking.support, ciphertext, file_id)
    assert (response.status_code, response.json()) == (201, {"id": file_id, "size": len(ciphertext)})
    # Before it is sent, only the uploader can fetch it back.
    assert download(cast.client("harmed"), cast, file_id).status_code == 200
    assert download(cast.client("facilitator"), cast, file_id).status_code == 404

    post(talking.support, cast.harmed.user, talking.keys.harmed, "see attached", files=[entry])
    for who in ("harmed", "facilitator"):
        got = download(cast.client(who), cast, file_id)
        assert got.status_code == 200
        assert got["Content-Type"] == "application/octet-stream"
        assert env.decrypt_file(got.content, conversation=talking.support.public_id, entry=entry) == (
            b"%PDF-1.4 screenshot"
        )
    for who in ("other_facilitator_same_program", "responsible", "supporter", "coordinator", "outsider"):
        assert download(cast.client(who), cast, file_id).status_code == 404, who
    # The outsider's own case named in the address tells them nothing either.
    outsider_case = Participant.objects.get(user=cast.outsider).case
    assert download(cast.client("outsider"), cast, file_id, outsider_case.reference).status_code == 404
    assert download(cast.client("facilitator"), cast, str(uuid.uuid4())).status_code == 404


@pytest.mark.parametrize(
    ("file_id", "data", "status", "words"),
    [
        ("", b"x" * 32, 400, "random UUID"),
        ("not-a-uuid", b"x" * 32, 400, "random UUID"),
        ("UPPER", b"x" * 32, 400, "random UUID"),
        ("GOOD", b"", 400, "empty"),
    ],
)
def test_it_says_what_is_wrong_with_an_upload(cast, talking, file_id, data, status, words):
    file_id = {"UPPER": str(uuid.uuid4()).upper(), "GOOD": str(uuid.uuid4())}.get(file_id, file_id)
    response = upload(cast.client("harmed"), cast, talking.support, data, file_id)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert not Attachment.objects.exists()


def test_it_refuses_a_file_larger_than_ten_mib(cast, talking):
    response = upload(
        cast.client("harmed"), cast, talking.support, b"\0" * (env.MAX_FILE_BYTES + 17), str(uuid.uuid4())
    )
    assert response.status_code == 400
    assert "10 MiB" in response.json()["error"]
    assert not Attachment.objects.exists()


def test_it_refuses_another_file_under_an_id_already_used(cast, talking):
    file_id = str(uuid.uuid4())
    client = cast.client("harmed")
    assert upload(client, cast, talking.support, b"a" * 40, file_id).status_code == 201
    assert upload(client, cast, talking.support, b"a" * 40, file_id).status_code == 201  # a retry
    response = upload(client, cast, talking.support, b"b" * 40, file_id)
    assert response.status_code == 409
    assert Attachment.objects.get(file_id=file_id).size == 40


@pytest.mark.parametrize("who", [*STRANGERS, "responsible", "coordinator"])
def test_inv_privacy_it_takes_no_file_from_those_outside_the_conversation(cast, talking, who):
    response = upload(cast.client(who), cast, talking.support, b"x" * 40, str(uuid.uuid4()))
    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_inv_survivor_centered_files_of_the_direct_conversation_close_with_it(cast):
    prepare_for_encounter(cast, mode="direct")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    harmed_keys = give_keys(cast.harmed.user)
    give_keys(cast.responsible.user)
    give_keys(cast.facilitator)
    direct = conversation(cast, "direct")
    file_id = str(uuid.uuid4())
    ciphertext, entry = env.encrypt_file(b"a picture", conversation=direct.public_id, file_id=file_id)
    assert upload(cast.client("harmed"), cast, direct, ciphertext, file_id).status_code == 201
    post(direct, cast.harmed.user, harmed_keys, "a picture", files=[entry])
    assert download(cast.client("responsible"), cast, file_id).status_code == 200

    choose(cast, "indirect")
    assert download(cast.client("responsible"), cast, file_id).status_code == 404
    assert download(cast.client("facilitator"), cast, file_id).status_code == 200


# Read receipts.


def test_it_lets_a_party_turn_read_receipts_off_and_on(cast, talking):
    client = cast.client("harmed")
    response = client.post(messages_url(cast, "receipts/"), {"shown": "0"})
    assert response.status_code == 302
    assert response["Location"] == messages_url(cast)
    assert Participant.objects.get(pk=cast.harmed.pk).read_receipts is False
    page = text(client.get(messages_url(cast, f"{talking.support.public_id}/")))
    assert "Others cannot see when you have read their messages." in page
    assert 'data-receipts=""' in page

    back = messages_url(cast, f"{talking.support.public_id}/")
    response = client.post(messages_url(cast, "receipts/"), {"shown": "1", "back": back})
    assert response["Location"] == back
    assert Participant.objects.get(pk=cast.harmed.pk).read_receipts is True


@pytest.mark.parametrize(
    "back", ["https://elsewhere.test/", "//elsewhere.test/", "/cases/", "/cases/C-ZZZZ-ZZZZ/messages/"]
)
def test_it_goes_back_only_to_a_page_of_the_case_messages_after_changing_receipts(cast, back):
    response = cast.client("harmed").post(messages_url(cast, "receipts/"), {"shown": "0", "back": back})
    assert response["Location"] == messages_url(cast)


@pytest.mark.parametrize("who", ["facilitator", "coordinator", *STRANGERS])
def test_it_has_no_read_receipt_setting_for_staff_or_strangers(cast, who):
    response = cast.client(who).post(messages_url(cast, "receipts/"), {"shown": "0"})
    assert response.status_code == 404
