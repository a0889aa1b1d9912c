"""What the sign-in, join and recovery pages compute in the browser, computed here the same way."""

from dataclasses import dataclass

from django.test import Client

from mend.accounts import keys
from mend.accounts.credentials import normalise_phrase
from mend.core import envelope as env

JSON = {"Accept": "application/json"}


def derived(identifier: str, secret: str) -> tuple[str, bytes]:
    """(auth key, wrapping key), as signin.js derives them: a participant's phrase normalised first."""
    identifier = identifier.strip().lower()
    return keys.derive_sign_in(identifier, secret if "@" in identifier else normalise_phrase(secret))


def auth_key(identifier: str, secret: str) -> str:
    return derived(identifier, secret)[0]


def sign_in(client: Client, identifier: str, secret: str, *, json: bool = False, **extra):
    """Posts what the sign-in page posts: the identifier and the derived key, never the secret."""
    data = {"identifier": identifier, "auth_key": auth_key(identifier, secret), **extra}
    return client.post("/account/sign-in/", data, headers=JSON if json else {})


@dataclass
class Made:
    """Keys made as a browser makes them, with the secrets only the person holds."""

    pair: env.KeyPair
    recovery_code: str
    fields: dict


def made_keys(wrap_key: bytes, *, recovery_code: str | None = None) -> Made:
    """A key bundle as the page posts it, wrapped under `wrap_key` and under a recovery code."""
    pair = env.KeyPair.generate()
    code = recovery_code or env.new_recovery_code()
    recovery_auth, recovery_wrap = env.derive_recovery(code)
    fields = {
        **pair.public(),
        "wrapped": env.wrap_keys(wrap_key, pair),
        "recovery_wrapped": env.wrap_keys(recovery_wrap, pair),
        "recovery_auth": recovery_auth,
    }
    return Made(pair=pair, recovery_code=code, fields=fields)


def participant_with_phrase(cast, pseudonym: str, phrase: str, *, recovery_code: str | None = None):
    """A participant who joined as the join page does it, with a phrase and a recovery code the test knows.
    Returns (user, Made)."""
    from mend.accounts.credentials import new_sign_in_name
    from mend.cases import services as case_services

    _invitation, raw = case_services.participant_invite(
        actor=cast.facilitator, case=cast.case, role="community_member"
    )
    name = new_sign_in_name()
    key, wrap_key = derived(name, phrase)
    made = made_keys(wrap_key, recovery_code=recovery_code)
    user = case_services.invitation_accept(
        raw_token=raw, pseudonym=pseudonym, sign_in_name=name, auth_key=key, keys=made.fields
    )
    return user, made


def pass_second_step(client: Client, user) -> None:
    """Marks the client's session as past the second step, as the two-factor page does with a good code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()


def signed_in_as(client: Client):
    """The id of the user the client's session is signed in as, or None."""
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None
