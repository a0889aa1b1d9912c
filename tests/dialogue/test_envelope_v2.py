"""Envelope v2 on the server's side: new messages must be v2, and every frame carries each recipient's keys
so that every reader (the pages, `mend chat`) can check every entry; a message with junk in someone's entry
is refused by each reader, not by the server, which cannot open entries."""

import copy
import json

import pytest

from mend.accounts.models import KeyBundle
from mend.core import envelope as env
from mend.dialogue import chat, selectors
from mend.dialogue.models import Conversation, Message
from tests.builders import prepare_for_encounter
from tests.dialogue.helpers import give_keys, recipients_now, seal
from tests.dialogue.test_services import Keys, Kind, move, opened, post, refused


@pytest.fixture
def keys(cast) -> Keys:
    return Keys(
        facilitator=give_keys(cast.facilitator),
        harmed=give_keys(cast.harmed.user),
        responsible=give_keys(cast.responsible.user),
        supporter=give_keys(cast.supporter.user),
    )


@pytest.fixture
def direct(cast, keys):
    prepare_for_encounter(cast, mode="direct")
    move(cast, "begin_encounter")
    return opened(cast, Kind.DIRECT)


def with_junk_for(envelope: dict, key_id: str, sender: env.KeyPair) -> dict:
    """What a modified client could send: junk in one recipient's entry, signed again by the sender."""
    junked = {k: v for k, v in copy.deepcopy(envelope).items() if k != "sig"}
    for entry in junked["keys"]:
        if entry["to"] == key_id:
            entry["ck"] = env.b64u(bytes(48))
    junked["sig"] = env.b64u(sender.sign.sign(env.signed_part(junked)))
    return junked


def frame_of(message: Message) -> dict:
    return selectors.frames_for([message], message.conversation)[0]


def test_it_seals_version_2_everywhere_and_refuses_a_new_version_1_message(cast, keys, direct):
    # Given a message sealed now, and the same words in the first format
    sealed = seal(direct, keys.responsible, "Sealed the new way.")
    old = env.seal(
        sender=keys.responsible,
        conversation=direct.public_id,
        content={"text": "Sealed the old way."},
        recipients=recipients_now(direct),
        version=1,
    )

    # Then the new one is version 2 and is taken, and the old one is refused before anything else
    assert sealed["v"] == 2
    post(cast.responsible.user, direct, sealed)
    said = refused(cast.responsible.user, direct, old, code="form")
    assert said == "Only envelope version 2 is accepted. Reload the page and send again."
    assert not Message.objects.filter(message_id=old["id"]).exists()


def test_it_sends_every_recipients_keys_with_each_message_live_and_later(cast, keys, direct):
    # Given a message stored in the direct conversation
    message, _created = post(cast.responsible.user, direct, seal(direct, keys.responsible, "Hello."))

    # When it is read back as a frame, and as the live frame sent to sockets
    frame = frame_of(message)
    bundles = list(KeyBundle.objects.filter(key_id__in=[e["to"] for e in frame["envelope"]["keys"]]))
    live = json.loads(
        selectors.message_frame_text(message, sender_bundle=bundles[0], recipient_bundles=bundles)
    )

    # Then both list each recipient's public keys under their key id, which the keys do give
    listed = frame["recipient_keys"]
    assert set(listed) == {keys.facilitator.key_id, keys.harmed.key_id, keys.responsible.key_id}
    assert live["recipient_keys"] == listed
    for pair in (keys.facilitator, keys.harmed, keys.responsible):
        assert listed[pair.key_id] == pair.public()
    assert env.recipient_keys(listed) == {
        p.key_id: p.enc_public for p in (keys.facilitator, keys.harmed, keys.responsible)
    }


def test_inv_confidentiality_every_reader_refuses_a_message_with_junk_for_the_facilitator(cast, keys, direct):
    # Given the person responsible sends a message whose entry for the facilitator is junk
    junked = with_junk_for(
        seal(direct, keys.responsible, "Not for the facilitator."), keys.facilitator.key_id, keys.responsible
    )

    # Then the server takes it: it cannot open any entry, so it cannot tell
    message, created = post(cast.responsible.user, direct, junked)
    assert created
    frame = frame_of(message)

    # And `mend chat` refuses it for the person harmed, who could decrypt their own copy
    assert env.open_envelope(junked, keys.harmed) == {"text": "Not for the facilitator."}
    with pytest.raises(env.NotSealedForEveryone):
        chat.check_and_open(frame, direct.public_id, keys.harmed)

    # And tells the facilitator it was not sealed so that they can read it
    with pytest.raises(env.NotReadableForMe):
        chat.check_and_open(frame, direct.public_id, keys.facilitator)


def test_it_refuses_a_frame_whose_keys_the_server_paired_with_another_key_id(cast, keys, direct):
    message, _created = post(cast.responsible.user, direct, seal(direct, keys.responsible, "Hello."))
    frame = frame_of(message)
    # A server that lists the facilitator's key id with keys of its own choosing
    frame["recipient_keys"][keys.facilitator.key_id] = env.KeyPair.generate().public()
    with pytest.raises(env.EnvelopeError, match="do not match their key id"):
        chat.check_and_open(frame, direct.public_id, keys.harmed)


def test_it_still_opens_a_stored_version_1_message_for_every_recipient(cast, keys, direct):
    # Given a version 1 message as the server stored them before version 2
    old = env.seal(
        sender=keys.responsible,
        conversation=direct.public_id,
        content={"text": "Sent before version 2."},
        recipients=recipients_now(direct),
        version=1,
    )
    direct = Conversation.objects.get(pk=direct.pk)
    direct.last_seq += 1
    direct.save(update_fields=["last_seq"])
    message = Message.objects.create(
        conversation=direct,
        seq=direct.last_seq,
        message_id=old["id"],
        sender=cast.responsible.user,
        sender_key_id=keys.responsible.key_id,
        kind="message",
        envelope=env.canonical(old).decode(),
    )

    # Then every recipient opens it, with the other entries reported as not checked
    frame = frame_of(message)
    for pair in (keys.facilitator, keys.harmed):
        assert chat.check_and_open(frame, direct.public_id, pair)[0] == {"text": "Sent before version 2."}
        content, unchecked = env.open_checked(old, pair, env.recipient_keys(frame["recipient_keys"]))
        assert unchecked == [entry["to"] for entry in old["keys"]]


@pytest.mark.parametrize(
    "said",
    [
        {"approved": True},
        {"kind": "for_relay"},
        {"ref": "0b6a1c1e-8a0f-4f57-9b6e-2f7d4c1a9e10"},
        {"id": "0b6a1c1e-8a0f-4f57-9b6e-2f7d4c1a9e10"},
    ],
    ids=["approved", "kind", "ref", "id"],
)
def test_it_refuses_a_frame_whose_servers_word_differs_from_what_its_sender_signed(cast, keys, direct, said):
    # Given a message the writer did not agree to have passed on
    message, _created = post(cast.responsible.user, direct, seal(direct, keys.responsible, "Just for you."))
    frame = frame_of(message)
    assert chat.check_and_open(frame, direct.public_id, keys.harmed)[0] == {"text": "Just for you."}

    # When someone with the database changes what the server says beside the signed envelope
    frame.update(said)

    # Then `mend chat` does not show it
    with pytest.raises(env.EnvelopeError):
        chat.check_and_open(frame, direct.public_id, keys.harmed)


def test_it_refuses_a_message_whose_recipients_keys_are_not_all_listed(cast, keys, direct):
    message, _created = post(cast.responsible.user, direct, seal(direct, keys.responsible, "Hello."))
    frame = frame_of(message)

    # When the server leaves out the facilitator's keys altogether, the message cannot be checked: refused
    del frame["recipient_keys"][keys.facilitator.key_id]
    with pytest.raises(env.NotSealedForEveryone, match="not all listed"):
        chat.check_and_open(frame, direct.public_id, keys.harmed)

    # But keys listed as null (an account that was closed) only leave that entry unchecked, and say so
    frame["recipient_keys"][keys.facilitator.key_id] = None
    content, unchecked = chat.check_and_open(frame, direct.public_id, keys.harmed)
    assert content == {"text": "Hello."}
    assert unchecked == [keys.facilitator.key_id]
