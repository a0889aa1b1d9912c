"""Seeds the scale-out test's database: a facilitator and a party in their support conversation, keys the
test holds for both, and a signed-in session for each, made directly so that no sign-in or TOTP code is
spent. Every name here is invented.

Run it as `python -m tests.scale.seed` from the repository root with the servers' environment; it prints
one JSON line, last.
"""

import json
import os
import sys


def session_for(user, *, second_factor: bool) -> str:
    """A session as the sign-in pages leave it: signed in, both session clocks started, and for staff the
    second step done (mend.accounts.middleware.second_factor_missing looks for the device id)."""
    import time
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend.core.middleware import SEEN_AT, SIGNED_IN_AT

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGNED_IN_AT] = session[SEEN_AT] = int(time.time())
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


def seed() -> dict:
    from mend import builders
    from mend.accounts import services as account_services
    from mend.accounts.keys import unknown_credentials
    from mend.cases import services as case_services
    from mend.dialogue import services as dialogue_services
    from tests.dialogue.helpers import give_keys

    program = account_services.program_create(
        actor=None, name="Tidewater Restorative Circle", slug="tidewater", jurisdictions=["NZ"]
    )
    facilitator = account_services.staff_create(
        actor=None,
        email="marram@tidewater.test",
        display_name="Marram Okoro",
        password="shingle lighthouse kelp 42",
        program=program,
        role="facilitator",
    )
    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="online_harassment",
        jurisdictions=["NZ"],
        referral_source="self",
        facilitator=facilitator,
    )
    place = builders.join(
        actor=facilitator,
        case=case,
        role="harmed_party",
        pseudonym="Tern",
        credentials=unknown_credentials("tern-tidewater"),
    )
    party = place.user
    # A support conversation needs nothing but the party's consent to take part and to hear from the
    # facilitator (mend.dialogue.rules.writing_missing), whatever the case's stage.
    builders.give_consent(place, "take_part", "facilitator_contact", "data_processing")
    conversation = dialogue_services.conversation_open(case=case, kind="support", party=place)
    party_keys, facilitator_keys = give_keys(party), give_keys(facilitator)
    return {
        "conversation": conversation.public_id,
        "party": {
            "user": party.pk,
            "session": session_for(party, second_factor=False),
            "keys": party_keys.to_file(),
        },
        "facilitator": {
            "user": facilitator.pk,
            "session": session_for(facilitator, second_factor=True),
            "keys": facilitator_keys.to_file(),
        },
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    sys.stdout.write("\n" + json.dumps(seed()) + "\n")
