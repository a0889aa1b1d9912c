"""What an attacker who can write to the server's database does to a seeded conversation case (issue 14),
for tests/e2e/test_key_verification_browser.py: run with the venv's python in the server's environment, as
tests/e2e/dialogue_seed.py is; it prints one JSON line, last. Every name here is invented.

    key_attacks.py substitute CASE PSEUDONYM     UPDATE that party's current enc_public to an attacker's key
    key_attacks.py ghost CASE NAME                add a co-facilitator row (with keys) nobody assigned
    key_attacks.py self_assign CASE NAME          a coordinator assigns themselves as co-facilitator
    key_attacks.py move CASE PSEUDONYM            copy the party's last support message into their relay
    key_attacks.py approve CASE PSEUDONYM         mark the party's last message for the other side as agreed
                                                  to be passed on (the signed envelope says it is not)
    key_attacks.py new_keys_and_write_for_relay CASE PSEUDONYM TEXT
                                                  the same in their exchange, agreed to be passed on
    key_attacks.py count CASE PSEUDONYM KIND      how many messages the party's conversation of KIND holds
    key_attacks.py new_keys_and_write CASE PSEUDONYM TEXT
                                                  the party gets new keys and writes to their facilitator
"""

import json
import os
import secrets
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # for tests.dialogue.helpers

PASSWORD = "saltmarsh heron 7 lantern dune"


def _case(reference: str):
    from mend.cases.models import Case

    return Case.objects.get(reference=reference)


def _conversation(case, pseudonym: str, kind: str):
    from mend.dialogue import services
    from mend.dialogue.models import Conversation

    party = case.participants.get(pseudonym=pseudonym, removed_at__isnull=True)
    found = Conversation.objects.filter(case=case, kind=kind, party=party).first()
    return found or services.conversation_open(case=case, kind=kind, party=party)


def substitute(reference: str, pseudonym: str) -> dict:
    """Only the encryption key changes; the key id column keeps naming the real one."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from mend.accounts.models import KeyBundle
    from mend.core import envelope as env

    place = _case(reference).participants.get(pseudonym=pseudonym, removed_at__isnull=True)
    attacker = env.b64u(X25519PrivateKey.generate().public_key().public_bytes_raw())
    changed = KeyBundle.objects.filter(user=place.user, replaced_at__isnull=True).update(enc_public=attacker)
    return {"changed": changed, "enc_public": attacker}


def _staff_with_keys(case, name: str, role: str):
    from mend.accounts import services as account_services
    from tests.dialogue import helpers

    user = account_services.staff_create(
        actor=None,
        email=f"{name.split()[0].lower()}.{secrets.token_hex(3)}@estuary.test",
        display_name=name,
        password=PASSWORD,
        program=case.program,
        role=role,
    )
    helpers.give_keys(user)
    return user


def ghost(reference: str, name: str) -> dict:
    """A row written straight into the database: no service, no audit event."""
    from django.utils import timezone

    from mend.cases.models import Participant

    case = _case(reference)
    user = _staff_with_keys(case, name, "facilitator")
    place = Participant.objects.create(
        case=case, user=user, role="co_facilitator", pseudonym=name, joined_at=timezone.now()
    )
    return {"user": user.pk, "place": place.pk}


def self_assign(reference: str, name: str) -> dict:
    """Through the service that assigns facilitators; since issue 14, joining oneself needs a colleague's
    approval, which the case's facilitator gives here."""
    from mend.cases import services as case_services
    from mend.core.errors import DomainError

    case = _case(reference)
    coordinator = _staff_with_keys(case, name, "coordinator")
    try:
        place = case_services.facilitator_assign(
            actor=coordinator, case=case, user=coordinator, role="co_facilitator"
        )
    except DomainError:
        request = case_services.assignment_request_create(actor=coordinator, case=case, role="co_facilitator")
        facilitator = case.participants.get(role="facilitator", removed_at__isnull=True).user
        case_services.assignment_request_decide(actor=facilitator, request=request, approve=True)
        place = case.participants.get(user=coordinator, removed_at__isnull=True)
    return {"user": coordinator.pk, "place": place.pk}


def move(reference: str, pseudonym: str) -> dict:
    """The party's last message to their facilitator, stored again in their exchange through the facilitator,
    with the same envelope, for the same people."""
    from django.db import transaction

    from mend.dialogue.models import Message, Recipient

    case = _case(reference)
    source = _conversation(case, pseudonym, "support")
    target = _conversation(case, pseudonym, "relay")
    original = Message.objects.filter(conversation=source).order_by("-seq").first()
    with transaction.atomic():
        target.last_seq += 1
        target.save(update_fields=["last_seq"])
        copy = Message.objects.create(
            conversation=target,
            seq=target.last_seq,
            message_id=str(uuid.uuid4()),
            sender=original.sender,
            sender_key_id=original.sender_key_id,
            kind=original.kind,
            envelope=original.envelope,
        )
        for row in original.recipients.all():
            Recipient.objects.create(message=copy, user=row.user, key_id=row.key_id)
    return {"from": source.public_id, "to": target.public_id, "id": copy.message_id}


def new_keys_and_write(reference: str, pseudonym: str, text: str) -> dict:
    """Keys replaced the way a new device would (or a server handing out someone else's), then a message
    signed with them, through the service as the page would send it."""
    from mend.dialogue import services
    from tests.dialogue import helpers

    conversation = _conversation(_case(reference), pseudonym, "support")
    place = conversation.party
    keys = helpers.give_keys(place.user)
    message, _replay = services.message_post(
        actor=place.user, conversation=conversation, envelope=helpers.seal(conversation, keys, text)
    )
    return {"id": message.message_id, "key_id": keys.key_id}


def approve(reference: str, pseudonym: str) -> dict:
    """Only the database column changes; the envelope, signed by the writer, still says not approved."""
    from mend.dialogue.models import Message

    relay = _conversation(_case(reference), pseudonym, "relay")
    last = Message.objects.filter(conversation=relay, kind="for_relay").order_by("-seq").first()
    Message.objects.filter(pk=last.pk).update(approved=True)
    return {"id": last.message_id}


def new_keys_and_write_for_relay(reference: str, pseudonym: str, text: str) -> dict:
    """As new_keys_and_write, in the party's exchange through the facilitator, agreed to be passed on."""
    from mend.dialogue import services
    from tests.dialogue import helpers

    conversation = _conversation(_case(reference), pseudonym, "relay")
    keys = helpers.give_keys(conversation.party.user)
    envelope = helpers.seal(conversation, keys, text, meta={"kind": "for_relay", "approved": True})
    message, _replay = services.message_post(
        actor=conversation.party.user, conversation=conversation, envelope=envelope
    )
    return {"id": message.message_id, "key_id": keys.key_id}


def count(reference: str, pseudonym: str, kind: str) -> dict:
    conversation = _conversation(_case(reference), pseudonym, kind)
    return {"messages": conversation.messages.count(), "conversation": conversation.public_id}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    action, *args = sys.argv[1:]
    sys.stdout.write("\n" + json.dumps(globals()[action](*args)) + "\n")
