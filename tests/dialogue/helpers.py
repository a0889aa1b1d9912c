"""Keys the tests hold, and envelopes sealed with them as a browser would."""

import os

from mend.accounts import keys as account_keys
from mend.accounts.models import KeyBundle
from mend.core import envelope as env
from mend.dialogue import selectors


def give_keys(user) -> env.KeyPair:
    """Fresh keys for the user, registered as their current bundle; the test keeps the private halves."""
    pair = env.KeyPair.generate()
    recovery_auth, recovery_wrap = env.derive_recovery(env.new_recovery_code())
    fields = {
        **pair.public(),
        "wrapped": env.wrap_keys(os.urandom(32), pair),
        "recovery_wrapped": env.wrap_keys(recovery_wrap, pair),
        "recovery_auth": recovery_auth,
    }
    if KeyBundle.objects.filter(user=user, replaced_at__isnull=True).exists():
        account_keys.key_bundle_replace(actor=user, **fields)
    else:
        account_keys.key_bundle_create(actor=user, **fields)
    return pair


def recipients_now(conversation) -> list[env.Recipient]:
    """Whom the server expects a message here to be encrypted to, as the page asks before sealing."""
    return [
        env.Recipient(m["key_id"], env.unb64u(m["enc_public"]))
        for m in selectors.members(conversation)
        if m["key_id"]
    ]


def seal(
    conversation, sender: env.KeyPair, text: str = "hello", *, meta=None, recipients=None, message_id=None
):
    return env.seal(
        sender=sender,
        conversation=conversation.public_id,
        content={"text": text},
        recipients=recipients if recipients is not None else recipients_now(conversation),
        meta=meta or {"kind": "message"},
        message_id=message_id,
    )
