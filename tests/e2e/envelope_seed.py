"""Seeds a case whose parties write to each other directly (tests/e2e/dialogue_seed.py, then the person
harmed chooses direct contact and both parties consent to it), for the envelope v2 journeys.

`envelope_seed.py <tag>` seeds and prints one JSON line, last, as dialogue_seed.py does.
`envelope_seed.py --store-v1 <envelope JSON>` stores a version 1 envelope as the server kept messages before
version 2 (it refuses new ones now), so that a journey can show that such a message still opens. Every name
here is invented.
"""

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def seed_direct(tag: str) -> dict:
    from mend.consent import services as consent_services
    from mend.consent.selectors import current_text
    from mend.dialogue import services as dialogue_services
    from mend.dialogue.models import Conversation
    from tests.e2e.dialogue_seed import seed

    seeded = seed(tag)
    case = Conversation.objects.get(public_id=seeded["direct_conversation"]).case
    places = {p.role: p for p in case.participants.filter(role__in=["harmed_party", "responsible_party"])}
    for place in places.values():
        text = current_text(case.program, "direct_meeting")
        consent_services.consent_give(
            actor=place.user, place=place, scope="direct_meeting", text_sha256=text.sha256
        )
    harmed = places["harmed_party"]
    consent_services.choices_update(
        actor=harmed.user,
        place=harmed,
        mode="direct",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="at_end",
    )
    dialogue_services.conversation_open(case=case, kind=Conversation.Kind.DIRECT)
    return seeded


def store_v1(envelope: dict) -> dict:
    """Keeps the envelope as the server stored messages before version 2: after the same checks of form,
    sender and signature that it made then, with a recipient row for each key it was sealed to."""
    from django.db import transaction

    from mend.accounts.models import KeyBundle
    from mend.core import envelope as env
    from mend.dialogue.models import Conversation, Message, Recipient

    env.check_form(envelope, versions=(1,))
    wanted = [entry["to"] for entry in envelope["keys"]] + [envelope["sender"]]
    bundles = {b.key_id: b for b in KeyBundle.objects.filter(key_id__in=wanted, replaced_at__isnull=True)}
    sender = bundles[envelope["sender"]]
    env.verify(envelope, env.unb64u(sender.sign_public))
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(public_id=envelope["conversation"])
        conversation.last_seq += 1
        conversation.save(update_fields=["last_seq"])
        message = Message.objects.create(
            conversation=conversation,
            seq=conversation.last_seq,
            message_id=envelope["id"],
            sender=sender.user,
            sender_key_id=sender.key_id,
            kind=envelope["meta"]["kind"],
            envelope=env.canonical(envelope).decode(),
        )
        Recipient.objects.bulk_create(
            [
                Recipient(message=message, user_id=bundles[e["to"]].user_id, key_id=e["to"])
                for e in envelope["keys"]
            ]
        )
    return {"id": message.message_id, "seq": message.seq}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    if len(sys.argv) > 2 and sys.argv[1] == "--store-v1":
        answer = store_v1(json.loads(sys.argv[2]))
    else:
        answer = seed_direct(sys.argv[1] if len(sys.argv) > 1 else secrets.token_hex(3))
    sys.stdout.write("\n" + json.dumps(answer) + "\n")
