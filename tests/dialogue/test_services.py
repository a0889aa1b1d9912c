"""The server's acceptance of envelopes, the relay flow, receipts and attachments, at the service level."""

import base64
import json
import uuid
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mend.accounts.models import KeyBundle
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.consent import services as consent_services
from mend.core import envelope as env
from mend.core.errors import Conflict, DomainError
from mend.dialogue import services
from mend.dialogue.models import Attachment, Conversation, Message, Recipient
from tests.builders import consent, prepare_for_encounter
from tests.dialogue.helpers import give_keys, recipients_now, seal

Kind = Conversation.Kind
# Changed on purpose (issue 16): nothing about a message not sent, the same words as the paused banner.
CALM = "Messages are paused for now. Your facilitator will let you know when you can write again."
CHANGED_RECIPIENTS = "The people in this conversation or their keys have changed. Reload it and send again."
NOT_UPLOADED = "An attached file was not uploaded to this conversation, or is already sent."


@dataclass
class Keys:
    facilitator: env.KeyPair
    harmed: env.KeyPair
    responsible: env.KeyPair
    supporter: env.KeyPair


def opened(cast, kind, party=None) -> Conversation:
    """The conversation as a request would load it, so that no cached reading of the case is reused."""
    made = services.conversation_open(case=cast.case, kind=kind, party=party)
    return Conversation.objects.select_related("case__program", "party").get(pk=made.pk)


def post(user, conversation, envelope):
    return services.message_post(actor=user, conversation=conversation, envelope=envelope)


def refused(user, conversation, envelope, *, code: str) -> str:
    with pytest.raises(services.Refused) as caught:
        post(user, conversation, envelope)
    assert caught.value.code == code, caught.value.message
    return caught.value.message


def recipient_ids(message) -> set[int]:
    return set(Recipient.objects.filter(message=message).values_list("user_id", flat=True))


def text_of(message, keys) -> str:
    return env.open_envelope(json.loads(message.envelope), keys)["text"]


def move(cast, *actions):
    for action in actions:
        case_services.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    cast.case.refresh_from_db()


@pytest.fixture
def keys(cast) -> Keys:
    return Keys(
        facilitator=give_keys(cast.facilitator),
        harmed=give_keys(cast.harmed.user),
        responsible=give_keys(cast.responsible.user),
        supporter=give_keys(cast.supporter.user),
    )


@pytest.fixture
def talking(cast, keys):
    """The person harmed consents to contact with the facilitator; everyone holds keys."""
    consent(cast.harmed, "take_part", "facilitator_contact")
    return cast


@pytest.fixture
def indirect(cast, keys):
    """An encounter through the facilitator: each party writes for the other side, the facilitator relays."""
    prepare_for_encounter(cast, mode="indirect")
    move(cast, "begin_encounter")
    return cast


def for_relay(cast, keys, text="I am sorry for what I did.", *, approved=True) -> Message:
    relay = opened(cast, Kind.RELAY, cast.responsible)
    sealed = seal(relay, keys.responsible, text, meta={"kind": "for_relay", "approved": approved})
    message, created = post(cast.responsible.user, relay, sealed)
    assert created
    return message


def relay_envelope(cast, keys, ref: Message, text="Passed on as written.") -> tuple[Conversation, dict]:
    theirs = opened(cast, Kind.RELAY, cast.harmed)
    return theirs, seal(theirs, keys.facilitator, text, meta={"kind": "relayed", "ref": ref.message_id})


# Refusals, each with words the sender can act on.


def test_inv_confidentiality_it_refuses_a_forged_signature(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    sealed = seal(support, keys.harmed, "Forged")
    sealed["sig"] = env.b64u(Ed25519PrivateKey.generate().sign(env.signed_part(sealed)))
    said = refused(talking.harmed.user, support, sealed, code="signature")
    assert said == "The signature does not match this message and its sender's key."
    assert not Message.objects.exists()


def test_inv_confidentiality_it_refuses_an_envelope_changed_after_signing(indirect, keys):
    relay = opened(indirect, Kind.RELAY, indirect.responsible)
    sealed = seal(
        relay, keys.responsible, "Keep this between us.", meta={"kind": "for_relay", "approved": False}
    )
    sealed["meta"]["approved"] = True  # someone on the way grants the approval the writer did not give
    said = refused(indirect.responsible.user, relay, sealed, code="signature")
    assert "signature does not match" in said


@pytest.mark.parametrize("change", ["one_missing", "one_extra", "old_key"])
def test_inv_confidentiality_it_refuses_recipients_other_than_those_allowed_now(talking, keys, change):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    everyone = recipients_now(support)
    if change == "one_missing":
        sealed = seal(
            support, keys.harmed, recipients=[r for r in everyone if r.key_id == keys.harmed.key_id]
        )
    elif change == "one_extra":
        stranger = env.Recipient(keys.responsible.key_id, keys.responsible.enc_public)
        sealed = seal(support, keys.harmed, recipients=[*everyone, stranger])
    else:
        sealed = seal(support, keys.harmed)
        give_keys(talking.facilitator)  # the facilitator's keys were replaced after the page sealed it
    assert refused(talking.harmed.user, support, sealed, code="recipients") == CHANGED_RECIPIENTS
    assert not Message.objects.exists()


def test_it_refuses_a_replayed_id_with_other_content(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    first = seal(support, keys.harmed, "The first words.")
    post(talking.harmed.user, support, first)
    other = seal(support, keys.harmed, "Different words.", message_id=first["id"])
    with pytest.raises(Conflict) as caught:
        post(talking.harmed.user, support, other)
    assert caught.value.message == (
        "A message with this id was already sent with other content. Send it as a new message."
    )
    with pytest.raises(Conflict):  # nor may someone else take over the id with the very same envelope
        post(talking.facilitator, support, first)
    assert text_of(Message.objects.get(), keys.facilitator) == "The first words."


def test_it_acknowledges_an_identical_replay_again_with_the_same_seq_and_stores_nothing_new(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    sealed = seal(support, keys.harmed, "Sent twice by a flaky connection.")
    message, created = post(talking.harmed.user, support, sealed)
    again, created_again = post(talking.harmed.user, support, json.loads(json.dumps(sealed)))
    assert (created, created_again) == (True, False)
    assert (again.pk, again.seq) == (message.pk, 1)
    assert Message.objects.count() == 1
    assert Recipient.objects.count() == 2
    support.refresh_from_db()
    assert support.last_seq == 1


def test_it_refuses_an_oversize_message(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    sealed = seal(support, keys.harmed, "x" * (env.MAX_BODY_BYTES + 1))
    said = refused(talking.harmed.user, support, sealed, code="form")
    assert said == "The message is too long. Split it into shorter messages."


def test_it_accepts_a_message_at_the_largest_size(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    # content is {"text": "..."}: 11 bytes around the text, then the 0x80 of the padding
    sealed = seal(support, keys.harmed, "x" * (env.MAX_BODY_BYTES - 12))
    message, created = post(talking.harmed.user, support, sealed)
    assert created and len(env.unb64u(json.loads(message.envelope)["body"])) == env.MAX_BODY_BYTES + 16


def test_it_refuses_an_envelope_for_another_conversation(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    sealed = seal(opened(talking, Kind.SUPPORT, talking.responsible), keys.harmed)
    said = refused(talking.harmed.user, support, sealed, code="form")
    assert said == "This envelope names another conversation."


@pytest.mark.parametrize(
    "who", ["outsider", "other_program_facilitator", "coordinator", "responsible", "supporter"]
)
def test_inv_privacy_it_refuses_someone_not_in_the_conversation(talking, keys, who):
    person = getattr(talking, who)
    user = getattr(person, "user", person)
    stranger = give_keys(user)
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    said = refused(user, support, seal(support, stranger, "Let me in."), code="member")
    assert said == "You are not in this conversation."


def test_inv_voluntary_it_refuses_support_messages_once_consent_is_withdrawn(talking, keys):
    cast = talking
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="facilitator_contact")
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    assert refused(cast.harmed.user, support, seal(support, keys.harmed), code="not_now") == CALM
    said = refused(cast.facilitator, support, seal(support, keys.facilitator), code="not_now")
    assert said == (
        "This message cannot be sent yet. Still needed: "
        "consent of the person harmed (Wren) to be contacted by the facilitator."
    )


def test_inv_voluntary_it_refuses_messages_for_the_other_side_while_the_case_is_paused(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys)
    move(cast, "pause")
    relay = opened(cast, Kind.RELAY, cast.responsible)
    sealed = seal(relay, keys.responsible, "Again.", meta={"kind": "for_relay", "approved": True})
    assert refused(cast.responsible.user, relay, sealed, code="not_now") == CALM
    theirs, relayed = relay_envelope(cast, keys, waiting)
    said = refused(cast.facilitator, theirs, relayed, code="not_now")
    assert said == "This message cannot be sent yet. Still needed: the case to resume from its pause."


def test_inv_confidentiality_a_party_on_a_break_is_not_named_in_the_other_sides_refusal(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys)
    consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
    relay = opened(cast, Kind.RELAY, cast.responsible)
    sealed = seal(relay, keys.responsible, "Are you there?", meta={"kind": "for_relay", "approved": True})
    said = refused(cast.responsible.user, relay, sealed, code="not_now")
    assert said == CALM
    for word in ("Wren", "break", "consent", "harmed"):
        assert word not in said
    theirs, relayed = relay_envelope(cast, keys, waiting)
    said = refused(cast.facilitator, theirs, relayed, code="not_now")
    assert "the person harmed (Wren) to come back from their break" in said
    assert "the case to resume from its pause" in said


def test_inv_confidentiality_it_refuses_a_message_sealed_with_keys_that_are_not_current(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    give_keys(talking.harmed.user)  # restored on a new device after the old keys were lost
    said = refused(talking.harmed.user, support, seal(support, keys.harmed), code="sender_key")
    assert said == (
        "This message was sealed with keys that are not your current keys. Reload the page and send again."
    )


def test_it_refuses_a_sender_without_keys(talking):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    KeyBundle.objects.filter(user=talking.harmed.user).delete()
    sealed = seal(support, env.KeyPair.generate())
    assert "not your current keys" in refused(talking.harmed.user, support, sealed, code="sender_key")


def test_it_refuses_a_reference_on_a_message_that_is_not_relayed_or_returned(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys, approved=False)
    relay = opened(cast, Kind.RELAY, cast.responsible)
    sealed = seal(
        relay,
        keys.responsible,
        "Take this one instead.",
        meta={"kind": "for_relay", "ref": waiting.message_id},
    )
    said = refused(cast.responsible.user, relay, sealed, code="form")
    assert said == "Only a relayed or returned message names another message in meta.ref."
    waiting.refresh_from_db()
    assert waiting.relay_state == "pending"
    assert not AuditEvent.objects.filter(code__startswith="dialogue.relay_").exists()


def test_it_stores_nothing_and_keeps_the_seq_when_it_refuses(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    post(talking.harmed.user, support, seal(support, keys.harmed, "One."))
    forged = seal(support, keys.harmed, "Two.")
    forged["sig"] = env.b64u(Ed25519PrivateKey.generate().sign(env.signed_part(forged)))
    refused(talking.harmed.user, support, forged, code="signature")
    message, _ = post(talking.harmed.user, support, seal(support, keys.harmed, "Three."))
    assert message.seq == 2
    assert not Message.objects.filter(message_id=forged["id"]).exists()


# The relay: written for the other side, reviewed, returned or passed on.


def test_it_returns_a_message_with_a_note_and_passes_on_the_revised_one(indirect, keys):
    cast = indirect
    own = opened(cast, Kind.RELAY, cast.responsible)
    first = for_relay(cast, keys, "It was only a joke, but I am sorry.", approved=False)
    assert (first.relay_state, first.approved) == ("pending", False)
    assert recipient_ids(first) == {cast.responsible.user_id, cast.facilitator.pk}

    note = seal(
        own,
        keys.facilitator,
        "Could you say it without the 'only'?",
        meta={"kind": "returned", "ref": first.message_id},
    )
    returned, _ = post(cast.facilitator, own, note)
    first.refresh_from_db()
    assert first.relay_state == "returned"
    assert (returned.conversation_id, returned.ref_id) == (own.pk, first.pk)
    assert text_of(returned, keys.responsible) == "Could you say it without the 'only'?"
    event = AuditEvent.objects.get(code="dialogue.relay_returned")
    assert (event.actor_id, event.target_id) == (cast.facilitator.pk, str(first.pk))

    second = for_relay(cast, keys, "I am sorry. It hurt you, and it was my doing.")
    theirs, relayed_envelope = relay_envelope(
        cast, keys, second, "I am sorry. It hurt you, and it was my doing."
    )
    relayed, _ = post(cast.facilitator, theirs, relayed_envelope)
    second.refresh_from_db()
    assert second.relay_state == "forwarded"
    assert (relayed.conversation_id, relayed.kind, relayed.ref_id) == (theirs.pk, "relayed", second.pk)
    assert recipient_ids(relayed) == {cast.harmed.user_id, cast.facilitator.pk}
    assert text_of(relayed, keys.harmed) == "I am sorry. It hurt you, and it was my doing."
    with pytest.raises(env.EnvelopeError):
        text_of(second, keys.harmed)  # what the writer sent went to the facilitators only
    assert AuditEvent.objects.filter(code="dialogue.relay_forwarded", target_id=str(second.pk)).exists()


def test_it_refuses_to_return_a_message_already_returned(indirect, keys):
    cast = indirect
    own = opened(cast, Kind.RELAY, cast.responsible)
    first = for_relay(cast, keys, approved=False)
    post(
        cast.facilitator,
        own,
        seal(own, keys.facilitator, "Please revise.", meta={"kind": "returned", "ref": first.message_id}),
    )
    again = seal(own, keys.facilitator, "And again.", meta={"kind": "returned", "ref": first.message_id})
    said = refused(cast.facilitator, own, again, code="not_now")
    assert (
        said == "This message cannot be sent yet. Still needed: a message that is still waiting for review."
    )


def test_it_refuses_to_forward_a_message_its_writer_did_not_approve(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys, approved=False)
    theirs, relayed = relay_envelope(cast, keys, waiting)
    said = refused(cast.facilitator, theirs, relayed, code="not_now")
    assert said == (
        "This message cannot be sent yet. Still needed: "
        "a message its writer agreed to have passed on, still waiting for review."
    )
    waiting.refresh_from_db()
    assert waiting.relay_state == "pending"
    assert not theirs.messages.exists()


def test_it_refuses_to_forward_a_message_twice(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys)
    theirs, relayed = relay_envelope(cast, keys, waiting)
    post(cast.facilitator, theirs, relayed)
    theirs, twice = relay_envelope(cast, keys, waiting, "Once more.")
    said = refused(cast.facilitator, theirs, twice, code="not_now")
    assert "a message its writer agreed to have passed on, still waiting for review" in said
    assert theirs.messages.count() == 1


def test_it_refuses_to_forward_into_the_writers_own_exchange(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys)
    own = opened(cast, Kind.RELAY, cast.responsible)
    sealed = seal(own, keys.facilitator, "Back to you.", meta={"kind": "relayed", "ref": waiting.message_id})
    assert "a person on the other side to receive it" in refused(
        cast.facilitator, own, sealed, code="not_now"
    )


def test_inv_voluntary_a_relayed_message_is_held_while_the_recipient_has_withdrawn_consent(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="indirect_exchange")
    theirs, relayed = relay_envelope(cast, keys, waiting)
    said = refused(cast.facilitator, theirs, relayed, code="not_now")
    assert "consent of the person harmed (Wren) to an exchange through the facilitator" in said
    waiting.refresh_from_db()
    assert waiting.relay_state == "pending"
    assert not theirs.messages.exists()
    assert not AuditEvent.objects.filter(code="dialogue.relay_forwarded").exists()


def test_it_holds_a_relay_for_someone_who_has_no_keys_yet(indirect, keys):
    cast = indirect
    waiting = for_relay(cast, keys)
    KeyBundle.objects.filter(user=cast.harmed.user).delete()
    theirs, relayed = relay_envelope(cast, keys, waiting)
    said = refused(cast.facilitator, theirs, relayed, code="not_now")
    assert said == (
        "This message cannot be sent yet. Still needed: "
        "the person receiving it to sign in once, so that their keys exist."
    )
    waiting.refresh_from_db()
    assert waiting.relay_state == "pending"


# Direct and team conversations.


def test_it_carries_a_direct_message_to_both_parties_once_direct_is_chosen(cast, keys):
    prepare_for_encounter(cast, mode="direct")
    move(cast, "begin_encounter")
    direct = opened(cast, Kind.DIRECT)
    message, created = post(
        cast.responsible.user, direct, seal(direct, keys.responsible, "Thank you for meeting.")
    )
    assert created
    assert recipient_ids(message) == {cast.harmed.user_id, cast.responsible.user_id, cast.facilitator.pk}
    assert text_of(message, keys.harmed) == "Thank you for meeting."


def test_inv_survivor_centered_the_responsible_party_cannot_write_in_direct_unless_it_was_chosen(
    indirect, keys
):
    direct = opened(indirect, Kind.DIRECT)
    sealed = seal(direct, keys.responsible, "Can we talk directly?")
    assert (
        refused(indirect.responsible.user, direct, sealed, code="member")
        == "You are not in this conversation."
    )
    everyone = [
        *recipients_now(direct),
        env.Recipient(keys.harmed.key_id, keys.harmed.enc_public),
        env.Recipient(keys.responsible.key_id, keys.responsible.enc_public),
    ]
    sealed = seal(direct, keys.responsible, "Can we talk directly?", recipients=everyone)
    assert (
        refused(indirect.responsible.user, direct, sealed, code="member")
        == "You are not in this conversation."
    )
    assert not direct.messages.exists()


def test_it_keeps_the_team_conversation_among_the_case_facilitators(cast, keys):
    colleague = case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role="co_facilitator",
    )
    colleague_keys = give_keys(colleague.user)
    team = opened(cast, Kind.TEAM)
    message, _ = post(cast.facilitator, team, seal(team, keys.facilitator, "Session plan for Tuesday."))
    assert recipient_ids(message) == {cast.facilitator.pk, colleague.user_id}
    assert text_of(message, colleague_keys) == "Session plan for Tuesday."
    for place, pair in ((cast.harmed, keys.harmed), (cast.supporter, keys.supporter)):
        said = refused(place.user, team, seal(team, pair, "May I join?"), code="member")
        assert said == "You are not in this conversation."


# Stored data holds ciphertext only.


def _stored_text(model) -> str:
    rows = []
    for row in model.objects.values():
        for value in row.values():
            rows.append(
                bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value)
            )
    return "\n".join(rows)


def _base64_forms(data: bytes) -> list[str]:
    """The text `data` leaves in any base64 or base64url encoding, wherever it starts in what is encoded."""
    forms = []
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + data).decode().rstrip("=")
            forms.append(encoded[(offset * 4 + 2) // 3 + 1 : -3])
    return forms


def test_inv_confidentiality_the_stored_envelopes_and_files_hold_ciphertext_only(indirect, keys):
    cast = indirect
    canary = f"lilac canary {uuid.uuid4().hex} over the marsh"
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    file_id = str(uuid.uuid4())
    ciphertext, entry = env.encrypt_file(
        canary.encode() * 40, conversation=support.public_id, file_id=file_id
    )
    services.attachment_store(
        actor=cast.harmed.user, conversation=support, file_id=file_id, ciphertext=ciphertext
    )
    post(
        cast.harmed.user,
        support,
        env.seal(
            sender=keys.harmed,
            conversation=support.public_id,
            content={"text": canary, "files": [entry]},
            recipients=recipients_now(support),
            meta={"kind": "message", "files": [file_id]},
        ),
    )
    post(cast.facilitator, opened(cast, Kind.TEAM), seal(opened(cast, Kind.TEAM), keys.facilitator, canary))
    waiting = for_relay(cast, keys, canary)
    theirs, relayed = relay_envelope(cast, keys, waiting, canary)
    post(cast.facilitator, theirs, relayed)
    assert Message.objects.count() == 4 and Attachment.objects.filter(message__isnull=False).count() == 1
    for model in (Message, Recipient, Attachment, Conversation):
        stored = _stored_text(model)
        assert "lilac canary" not in stored
        for form in _base64_forms(canary.encode()):
            assert form not in stored, (model.__name__, form)
    assert canary.encode() not in bytes(Attachment.objects.get().ciphertext)


def test_it_finds_a_canary_in_base64_at_any_alignment_so_the_search_above_can_fail():
    canary = b"lilac canary 0f3a over the marsh"
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            stored = encode(b"{'text': '"[: offset + 5] + canary + b"'}").decode()
            assert any(form in stored for form in _base64_forms(canary))


# Receipts.


def test_it_records_delivered_then_read(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    message, _ = post(talking.harmed.user, support, seal(support, keys.harmed))
    row = services.receipt_record(actor=talking.facilitator, message_id=message.message_id, kind="delivered")
    assert row.delivered_at is not None and row.read_at is None
    row = services.receipt_record(actor=talking.facilitator, message_id=message.message_id, kind="read")
    assert row.read_at is not None and row.read_at >= row.delivered_at
    again = services.receipt_record(actor=talking.facilitator, message_id=message.message_id, kind="read")
    assert again.read_at == row.read_at


def test_it_keeps_no_receipt_while_the_reader_has_switched_them_off(talking, keys):
    cast = talking
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    message, _ = post(cast.facilitator, support, seal(support, keys.facilitator, "How are you today?"))
    services.read_receipts_set(actor=cast.harmed.user, place=cast.harmed, shown=False)
    assert AuditEvent.objects.filter(code="dialogue.read_receipts_changed").count() == 1
    for kind in ("delivered", "read"):
        kept = services.receipt_record(actor=cast.harmed.user, message_id=message.message_id, kind=kind)
        assert kept is None
    row = Recipient.objects.get(message=message, user=cast.harmed.user)
    assert row.delivered_at is None and row.read_at is None
    services.read_receipts_set(actor=cast.harmed.user, place=cast.harmed, shown=True)
    services.receipt_record(actor=cast.harmed.user, message_id=message.message_id, kind="read")
    row.refresh_from_db()
    assert row.read_at is not None


def test_it_lets_only_the_person_switch_their_read_receipts(talking):
    with pytest.raises(DomainError) as caught:
        services.read_receipts_set(actor=talking.facilitator, place=talking.harmed, shown=False)
    assert caught.value.message == (
        "Only the person themselves can change who sees when they have read a message."
    )
    talking.harmed.refresh_from_db()
    assert talking.harmed.read_receipts is True


def test_it_refuses_a_receipt_for_a_message_that_is_not_yours(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    message, _ = post(talking.harmed.user, support, seal(support, keys.harmed))
    for user in (talking.responsible.user, talking.outsider):
        with pytest.raises(DomainError) as caught:
            services.receipt_record(actor=user, message_id=message.message_id, kind="read")
        assert caught.value.message == "There is no such message for you."
    with pytest.raises(DomainError) as caught:
        services.receipt_record(actor=talking.facilitator, message_id=message.message_id, kind="seen")
    assert caught.value.message == "A receipt is either delivered or read."
    assert not Recipient.objects.filter(delivered_at__isnull=False).exists()


# Attachments.


def store(user, conversation, data=b"\x01" * 64, file_id=None):
    return services.attachment_store(
        actor=user,
        conversation=conversation,
        file_id=str(uuid.uuid4()) if file_id is None else file_id,
        ciphertext=data,
    )


def test_it_keeps_a_file_of_ten_mebibytes_and_its_tag(talking):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    kept = store(talking.harmed.user, support, b"\x07" * (env.MAX_FILE_BYTES + 16))
    assert (kept.size, kept.message_id, kept.uploader_id) == (
        env.MAX_FILE_BYTES + 16,
        None,
        talking.harmed.user_id,
    )


def test_it_refuses_a_file_larger_than_ten_mebibytes(talking):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    with pytest.raises(DomainError) as caught:
        store(talking.harmed.user, support, b"\x07" * (env.MAX_FILE_BYTES + 17))
    assert caught.value.message == "Files can be at most 10 MiB. Try a smaller picture or PDF."
    assert not Attachment.objects.exists()


def test_it_refuses_an_empty_file(talking):
    with pytest.raises(DomainError) as caught:
        store(talking.harmed.user, opened(talking, Kind.SUPPORT, talking.harmed), b"")
    assert caught.value.message == "The file is empty."


@pytest.mark.parametrize(
    "file_id", ["", "photo.png", str(uuid.uuid4()).upper(), uuid.uuid4().hex, str(uuid.uuid1()), "../" * 12]
)
def test_it_refuses_a_file_id_that_is_not_a_lower_case_random_uuid(talking, file_id):
    with pytest.raises(DomainError) as caught:
        store(talking.harmed.user, opened(talking, Kind.SUPPORT, talking.harmed), file_id=file_id)
    assert caught.value.message == "The file id must be a random UUID in lower case."


@pytest.mark.parametrize("who", ["outsider", "other_program_facilitator", "coordinator", "responsible"])
def test_inv_privacy_it_refuses_a_file_from_someone_not_in_the_conversation(talking, who):
    person = getattr(talking, who)
    with pytest.raises(DomainError) as caught:
        store(getattr(person, "user", person), opened(talking, Kind.SUPPORT, talking.harmed))
    assert caught.value.message == "You are not in this conversation."
    assert not Attachment.objects.exists()


def test_it_keeps_a_repeated_upload_once_and_refuses_other_bytes_under_its_id(talking):
    cast = talking
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    file_id = str(uuid.uuid4())
    first = store(cast.harmed.user, support, b"same bytes", file_id)
    assert store(cast.harmed.user, support, b"same bytes", file_id).pk == first.pk
    for user, conversation, data in (
        (cast.harmed.user, support, b"other bytes"),
        (cast.facilitator, support, b"same bytes"),
        (cast.harmed.user, opened(cast, Kind.RELAY, cast.harmed), b"same bytes"),
    ):
        with pytest.raises(Conflict) as caught:
            store(user, conversation, data, file_id)
        assert caught.value.message == "A file with this id was already uploaded. Use a new id."
    assert Attachment.objects.count() == 1


def _with_files(conversation, keys, file_ids):
    return seal(conversation, keys, "See the screenshot.", meta={"kind": "message", "files": file_ids})


def test_it_links_attached_files_to_their_message(talking, keys):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    files = [store(talking.harmed.user, support).file_id for _ in range(2)]
    message, _ = post(talking.harmed.user, support, _with_files(support, keys.harmed, files))
    assert set(message.attachments.values_list("file_id", flat=True)) == set(files)
    again = _with_files(support, keys.harmed, files[:1])
    assert refused(talking.harmed.user, support, again, code="files") == NOT_UPLOADED


@pytest.mark.parametrize("whose", ["facilitators", "never_uploaded", "other_conversation"])
def test_it_refuses_a_message_naming_a_file_the_sender_did_not_upload_here(talking, keys, whose):
    cast = talking
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    if whose == "facilitators":
        file_id = store(cast.facilitator, support).file_id
    elif whose == "never_uploaded":
        file_id = str(uuid.uuid4())
    else:
        file_id = store(cast.harmed.user, opened(cast, Kind.RELAY, cast.harmed)).file_id
    assert refused(cast.harmed.user, support, _with_files(support, keys.harmed, [file_id]), code="files") == (
        NOT_UPLOADED
    )
    assert not Message.objects.exists()
    assert not Attachment.objects.filter(message__isnull=False).exists()


# Sequence numbers, and nothing acknowledged before it is stored.


def test_it_numbers_messages_one_by_one_in_each_conversation(talking, keys):
    cast = talking
    support = opened(cast, Kind.SUPPORT, cast.harmed)
    team = opened(cast, Kind.TEAM)
    seqs = []
    for conversation, user, pair in [
        (support, cast.harmed.user, keys.harmed),
        (team, cast.facilitator, keys.facilitator),
        (support, cast.facilitator, keys.facilitator),
        (support, cast.harmed.user, keys.harmed),
        (team, cast.facilitator, keys.facilitator),
    ]:
        message, _ = post(user, conversation, seal(conversation, pair))
        seqs.append((conversation.kind, message.seq))
    assert seqs == [("support", 1), ("team", 1), ("support", 2), ("support", 3), ("team", 2)]


def test_inv_nothing_lost_an_acknowledged_message_is_already_stored(
    talking, keys, django_capture_on_commit_callbacks
):
    support = opened(talking, Kind.SUPPORT, talking.harmed)
    sealed = seal(support, keys.harmed, "Stored before the ack.")
    with django_capture_on_commit_callbacks(execute=False) as announced:
        message, created = post(talking.harmed.user, support, sealed)
        stored = Message.objects.get(message_id=sealed["id"])
        assert created and stored.pk == message.pk
        assert stored.envelope == env.canonical(sealed).decode()
        assert recipient_ids(stored) == {talking.harmed.user_id, talking.facilitator.pk}
    assert len(announced) == 1  # the realtime delivery waits for the commit


OPS = st.lists(
    st.tuples(st.sampled_from(["new", "replay", "clash"]), st.integers(0, 1), st.integers(0, 50)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_it_keeps_seqs_dense_and_each_id_once_whatever_is_sent_and_replayed(talking, keys, ops):
    # Each example counts messages afresh: the examples share one test's rate-limit counts (in Redis on the
    # PostgreSQL and Redis pass), and 25 examples can send more than one person's 60 a minute between them.
    with override_settings(RATELIMIT_CACHE_PREFIX=f"mend:rl:test-{uuid.uuid4().hex}:"):
        _send_and_replay(talking, keys, ops)


def _send_and_replay(cast, keys, ops) -> None:
    lanes = [
        (opened(cast, Kind.SUPPORT, cast.harmed), cast.harmed.user, keys.harmed),
        (opened(cast, Kind.TEAM), cast.facilitator, keys.facilitator),
    ]
    sent: list[tuple[int, dict, int]] = []  # lane, envelope, the seq it was acknowledged with
    for op, lane, pick in ops:
        conversation, user, pair = lanes[lane]
        if op == "new" or not sent:
            sealed = seal(conversation, pair, f"note {len(sent)}")
            message, created = post(user, conversation, sealed)
            assert created
            sent.append((lane, sealed, message.seq))
            continue
        lane, sealed, seq = sent[pick % len(sent)]
        conversation, user, pair = lanes[lane]
        if op == "replay":
            message, created = post(user, conversation, sealed)
            assert (created, message.seq) == (False, seq)
        else:
            with pytest.raises(Conflict):
                post(user, conversation, seal(conversation, pair, "changed", message_id=sealed["id"]))
    for conversation, _user, _pair in lanes:
        conversation.refresh_from_db()
        seqs = list(conversation.messages.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, conversation.last_seq + 1))
    ids = [s["id"] for _lane, s, _seq in sent]
    assert Message.objects.filter(message_id__in=ids).count() == len(ids) == len(set(ids))
