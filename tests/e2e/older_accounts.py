"""Puts accounts back as a Mend from before sealing and per-install salts left them, in the e2e server's
database, for the conversion journey (tests/e2e/test_sign_in_conversion_browser.py): the sign-in key derived
with the salt every install shared and hashed with plain Argon2, the same private keys wrapped under that
salt's key and stored in the clear. Run with the venv's python in the server's environment, as the seeds are.

    older_accounts.py downgrade '{"identifier": "secret", ...}'   prints nothing
    older_accounts.py state name ...                              prints one JSON line, last
"""

import json
import os
import sys


def downgrade(secrets: dict[str, str]) -> None:
    from django.contrib.auth.hashers import make_password
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend.accounts import keys
    from mend.accounts.credentials import normalise_phrase
    from mend.accounts.models import KeyBundle, User
    from mend.core import envelope as env

    for identifier, secret in secrets.items():
        typed = secret if "@" in identifier else normalise_phrase(secret)
        user = User.objects.get(username=identifier)
        bundle = keys.current_bundle(user)
        pair = env.unwrap_keys(keys.derive_sign_in(identifier, typed)[1], bundle.wrapped)
        old_auth, old_wrap = env.derive_sign_in(identifier, typed)
        KeyBundle.objects.filter(pk=bundle.pk).update(
            wrapped=env.wrap_keys(old_wrap, pair), recovery_wrapped=bundle.recovery_wrapped, wrapped_salt=1
        )
        User.objects.filter(pk=user.pk).update(
            password=make_password(old_auth, hasher="argon2"), auth_scheme="derived"
        )
        # The journey passes the second step again at once: the code of the same 30 s is not a replay.
        TOTPDevice.objects.filter(user=user).update(last_t=-1)


def state(identifiers: list[str]) -> dict:
    from mend.accounts import sealing
    from mend.accounts.models import KeyBundle, User

    found = {}
    for identifier in identifiers:
        user = User.objects.values("pk", "password", "auth_scheme").get(username=identifier)
        bundle = KeyBundle.objects.filter(user_id=user["pk"], replaced_at__isnull=True).values().get()
        found[identifier] = {
            "auth_scheme": user["auth_scheme"],
            "hash": user["password"].split("$")[0],
            "wrapped_salt": bundle["wrapped_salt"],
            "key_id": bundle["key_id"],
            "sealed": [sealing.is_sealed_bundle(bundle[f]) for f in ("wrapped", "recovery_wrapped")],
        }
    return found


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    if sys.argv[1] == "downgrade":
        downgrade(json.loads(sys.argv[2]))
    else:
        sys.stdout.write("\n" + json.dumps(state(sys.argv[2:])) + "\n")
