"""The dialogue in the JSON API, for `mend chat` and other staff clients: keys, conversations, members,
messages after a sequence, and sending envelopes, with the same checks and the same 404s as the pages."""

import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings

from mend.accounts.keys import current_bundle
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.core import envelope as env
from mend.dialogue import services
from mend.dialogue.models import Conversation, Message
from tests.api.conftest import ApiCaller, token_for
from tests.builders import consent
from tests.dialogue.helpers import give_keys, seal

NOT_FOUND = {"detail": "Not found."}
STAFF_STRANGERS = ("other_facilitator_same_program", "other_program_facilitator", "volunteer")


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("case__program", "party").get(pk=conversation.pk)


@pytest.fixture
def api(cast):
    """`api("facilitator")` calls the API with that person's personal token."""
    return lambda who: ApiCaller(token_for(getattr(cast, who)))


@pytest.fixture
def talking(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    keys = SimpleNamespace(harmed=give_keys(cast.harmed.user), facilitator=give_keys(cast.facilitator))
    support = services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    return SimpleNamespace(keys=keys, support=support, path=f"/conversations/{support.public_id}")


def post(conversation, user, keys, text="hello") -> Message:
    envelope = seal(fresh(conversation), keys, text)
    return services.message_post(actor=user, conversation=fresh(conversation), envelope=envelope)[0]


# Keys.


def test_it_gives_a_staff_member_their_own_keys_as_their_browser_wrapped_them(cast, api):
    keys = give_keys(cast.facilitator)
    bundle = current_bundle(cast.facilitator)
    response = api("facilitator").get("/me/keys")
    assert response.status_code == 200
    assert response.json() == {
        "key_id": keys.key_id,
        "enc_public": env.b64u(keys.enc_public),
        "sign_public": env.b64u(keys.sign_public),
        "safety_code": env.safety_code_of(keys.enc_public, keys.sign_public),
        "wrapped": bundle.wrapped,
        "wrapped_salt": 2,
        "install_id": settings.MEND_INSTALL_ID,
    }
    assert "recovery" not in response.content.decode()


def test_it_answers_404_for_keys_not_made_yet(cast, api):
    response = api("coordinator").get("/me/keys")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("who", ["harmed", "responsible"])
def test_it_keeps_the_api_to_staff(cast, who):
    response = cast.client(who).get("/api/v1/me/keys")
    assert response.status_code == 401


# Conversations.


def test_it_lists_a_facilitators_conversations_in_the_case(cast, api):
    response = api("facilitator").get(f"/cases/{cast.case.reference}/conversations")
    assert response.status_code == 200
    body = response.json()
    assert [(c["kind"], c["title"]) for c in body] == [
        ("team", "Case team"),
        ("support", "With Wren"),
        ("support", "With Kestrel"),
        ("support", "With Alder"),
        ("relay", "Exchange through the facilitator: person harmed Wren"),
        ("relay", "Exchange through the facilitator: person responsible Kestrel"),
        ("direct", "Direct conversation"),
    ]
    ids = {c.public_id for c in Conversation.objects.filter(case=cast.case)}
    assert {c["id"] for c in body} == ids
    # Whom a direct conversation is with: nobody yet, until the person harmed chooses to write directly.
    assert [c["with"] for c in body if c["kind"] == "direct"] == [
        "nobody yet: no one has chosen to write directly"
    ]
    assert {c["with"] for c in body if c["kind"] != "direct"} == {""}


def test_it_lists_no_conversations_for_a_coordinator_without_a_place_in_the_case(cast, api):
    response = api("coordinator").get(f"/cases/{cast.case.reference}/conversations")
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("who", STAFF_STRANGERS)
def test_inv_privacy_it_lists_no_conversations_of_a_case_to_strangers(cast, api, who):
    response = api(who).get(f"/cases/{cast.case.reference}/conversations")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert not Conversation.objects.exists()


# Members.


def test_it_gives_the_members_and_whether_the_caller_may_write(cast, api, talking):
    response = api("facilitator").get(f"{talking.path}/members")
    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["can_write"], body["why"]) == ("message", True, "")
    assert {(m["user"], m["key_id"]) for m in body["members"]} == {
        (cast.harmed.user.pk, talking.keys.harmed.key_id),
        (cast.facilitator.pk, talking.keys.facilitator.key_id),
    }
    relayed = api("facilitator").get(f"{talking.path}/members", {"kind": "relayed"}).json()
    assert relayed["can_write"] is False
    assert relayed["why"].startswith("This message cannot be sent yet. Still needed:")


def test_it_names_the_kind_it_does_not_know(cast, api, talking):
    response = api("facilitator").get(f"{talking.path}/members", {"kind": "shout"})
    assert response.status_code == 400
    assert response.json()["field"] == "kind"
    assert "message, for_relay, relayed, returned" in response.json()["detail"]


@pytest.mark.parametrize("who", [*STAFF_STRANGERS, "coordinator", "admin"])
def test_inv_privacy_it_answers_strangers_to_a_conversation_like_a_missing_one(cast, api, talking, who):
    caller = api(who)
    for path in (talking.path, "/conversations/D-ZZZZ-ZZZZ"):
        for suffix in ("/members", "/messages"):
            response = caller.get(path + suffix)
            assert (response.status_code, response.json()) == (404, NOT_FOUND), (path, suffix)
        envelope = seal(fresh(talking.support), talking.keys.facilitator, "not theirs")
        response = caller.post(path + "/messages", envelope)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert not Message.objects.exists()


# Reading messages.


def test_it_gives_the_messages_encrypted_to_the_caller_after_a_sequence(cast, api, talking):
    case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role=Role.CO_FACILITATOR,
    )
    post(talking.support, cast.harmed.user, talking.keys.harmed, "before the colleague had keys")
    colleague_keys = give_keys(cast.other_facilitator_same_program)
    for i in range(3):
        post(talking.support, cast.facilitator, talking.keys.facilitator, f"note {i}")

    everything = api("facilitator").get(f"{talking.path}/messages").json()
    assert [m["seq"] for m in everything] == [1, 2, 3, 4]
    first = everything[0]
    assert first["from"]["user"] == cast.harmed.user.pk
    assert first["from"]["key_id"] == talking.keys.harmed.key_id
    assert first["from"]["name"] == "Wren"
    assert (first["kind"], first["ref"], first["relay_state"], first["approved"]) == (
        "message",
        None,
        "",
        False,
    )
    env.verify(first["envelope"], env.unb64u(first["from"]["sign_public"]))
    assert env.open_envelope(first["envelope"], talking.keys.facilitator) == {
        "text": "before the colleague had keys"
    }

    after_two = api("facilitator").get(f"{talking.path}/messages", {"after": 2}).json()
    assert [m["seq"] for m in after_two] == [3, 4]
    assert api("facilitator").get(f"{talking.path}/messages", {"after": 4}).json() == []
    colleagues = api("other_facilitator_same_program").get(f"{talking.path}/messages").json()
    assert [m["seq"] for m in colleagues] == [2, 3, 4]
    assert env.open_envelope(colleagues[0]["envelope"], colleague_keys) == {"text": "note 0"}


@pytest.mark.parametrize("after", [-1, 2**31, 10**30])
def test_it_refuses_an_after_that_cannot_be_a_sequence_number(cast, api, talking, after):
    response = api("facilitator").get(f"{talking.path}/messages", {"after": after})
    assert response.status_code == 400
    assert response.json()["field"] == "after"


def test_it_names_an_after_that_is_not_a_number(cast, api, talking):
    response = api("facilitator").get(f"{talking.path}/messages", {"after": "last"})
    assert response.status_code == 422
    assert "after" in response.json()["detail"]


# Sending.


def test_it_stores_an_envelope_and_answers_its_resend_with_the_same_sequence(cast, api, talking):
    caller = api("facilitator")
    envelope = seal(fresh(talking.support), talking.keys.facilitator, "from the command line")
    first = caller.post(f"{talking.path}/messages", envelope)
    assert (first.status_code, first.json()) == (201, {"id": envelope["id"], "seq": 1, "duplicate": False})
    again = caller.post(f"{talking.path}/messages", envelope)
    assert (again.status_code, again.json()) == (200, {"id": envelope["id"], "seq": 1, "duplicate": True})
    stored = Message.objects.get(message_id=envelope["id"])
    assert stored.envelope == env.canonical(envelope).decode()
    # What the API stored, the person harmed can open and check.
    (frame,) = [m for m in caller.get(f"{talking.path}/messages").json() if m["id"] == envelope["id"]]
    assert env.open_envelope(frame["envelope"], talking.keys.harmed) == {"text": "from the command line"}


def test_it_refuses_the_same_id_with_other_content_with_409(cast, api, talking):
    caller = api("facilitator")
    envelope = seal(fresh(talking.support), talking.keys.facilitator, "one")
    assert caller.post(f"{talking.path}/messages", envelope).status_code == 201
    other = seal(fresh(talking.support), talking.keys.facilitator, "two", message_id=envelope["id"])
    response = caller.post(f"{talking.path}/messages", other)
    assert response.status_code == 409
    assert "other content" in response.json()["detail"]


@pytest.mark.parametrize(
    ("spoil", "status", "words"),
    [
        (lambda e: {**e, "sig": env.b64u(bytes(64))}, 400, "signature does not match"),
        (lambda e: {**e, "keys": e["keys"][:1]}, 400, "Reload it and send again"),
        (lambda e: {**e, "conversation": "D-ZZZZ-ZZZZ"}, 400, "another conversation"),
        (lambda e: {**e, "v": 1}, 400, "version 2"),
        (lambda e: {**e, "id": "not-a-uuid"}, 400, "random UUID"),
        (lambda e: {**e, "meta": {"kind": "shout"}}, 400, "meta.kind"),
        (lambda e: {**e, "extra": "field"}, 422, "extra"),
        (lambda e: {**e, "v": "1"}, 422, "v"),
        (lambda e: {k: v for k, v in e.items() if k != "sig"}, 422, "sig"),
    ],
)
def test_it_refuses_a_bad_envelope_and_says_why(cast, api, talking, spoil, status, words):
    envelope = spoil(seal(fresh(talking.support), talking.keys.facilitator, "spoiled"))
    response = api("facilitator").post(f"{talking.path}/messages", envelope)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert not Message.objects.exists()


def test_it_refuses_an_envelope_sealed_with_keys_that_were_replaced(cast, api, talking):
    give_keys(cast.facilitator)  # a new device's keys replace the old ones
    envelope = seal(fresh(talking.support), talking.keys.facilitator, "old keys")
    response = api("facilitator").post(f"{talking.path}/messages", envelope)
    assert response.status_code == 400
    assert "not your current keys" in response.json()["detail"]


def test_it_tells_a_facilitator_what_is_missing_before_they_may_write(cast, api):
    keys = give_keys(cast.facilitator)
    give_keys(cast.responsible.user)
    support = services.conversation_open(case=cast.case, kind="support", party=cast.responsible)
    envelope = seal(fresh(support), keys, "hello?")
    response = api("facilitator").post(f"/conversations/{support.public_id}/messages", envelope)
    assert response.status_code == 400
    assert (
        "consent of the person responsible (Kestrel) to be contacted by the facilitator"
        in (response.json()["detail"])
    )


def test_it_takes_a_message_id_only_once_across_conversations(cast, api, talking):
    team = services.conversation_open(case=cast.case, kind="team")
    caller = api("facilitator")
    message_id = str(uuid.uuid4())
    first = seal(fresh(team), talking.keys.facilitator, "team note", message_id=message_id)
    assert caller.post(f"/conversations/{team.public_id}/messages", first).status_code == 201
    second = seal(fresh(talking.support), talking.keys.facilitator, "elsewhere", message_id=message_id)
    assert caller.post(f"{talking.path}/messages", second).status_code == 409
