"""The people the scenarios act as, made in the seeded database through Mend's own services: their keys
(the scenarios hold the private halves, to seal envelopes as a browser would), their signed-in sessions and
an API token. Runs in the driver process, with Django set up for the database under test."""

import time
from dataclasses import dataclass, field
from importlib import import_module

from mend.core import envelope as env

FANOUT = (2, 10, 50)
PASSPHRASE = "lantern driftwood meadow harbour 42"  # the signing-in party's; an invented phrase


@dataclass
class Person:
    user_id: int
    session: str
    keys: env.KeyPair


@dataclass
class Actors:
    lead_session: str  # the facilitator of every seeded case, second factor passed: the `page` scenario
    lead_id: int
    api_user_id: int
    api_token: str
    send_conversation: str
    party: Person  # writes in their conversation with the facilitator: the `send` scenario
    facilitator: Person
    sign_in_name: str
    auth_key: str
    fanout: dict[int, dict] = field(default_factory=dict)  # N: {conversation, sender, recipients}


def session_for(user, *, second_factor: bool) -> str:
    """A session as the sign-in pages leave it: signed in, both session clocks started, and for staff the
    second step done (mend.accounts.middleware.second_factor_missing looks for the device id)."""
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
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


def _bundle_fields(pair: env.KeyPair, wrap_key: bytes) -> dict:
    recovery_auth, recovery_wrap = env.derive_recovery(env.new_recovery_code())
    return {
        **pair.public(),
        "wrapped": env.wrap_keys(wrap_key, pair),
        "recovery_wrapped": env.wrap_keys(recovery_wrap, pair),
        "recovery_auth": recovery_auth,
    }


def _new_keys(user) -> env.KeyPair:
    """Fresh keys in place of the seed's made-up ones, as someone who lost both passphrase and code."""
    import os

    from mend.accounts import keys as account_keys

    pair = env.KeyPair.generate()
    account_keys.key_bundle_replace(actor=user, **_bundle_fields(pair, os.urandom(32)))
    return pair


def _staff_person(user) -> Person:
    return Person(user.pk, session_for(user, second_factor=True), _new_keys(user))


def prepare() -> Actors:
    from mend.accounts import services as account_services
    from mend.accounts.models import User
    from mend.bench import seed
    from mend.cases import services as case_services
    from mend.cases.models import Role
    from mend.consent import services as consent_services
    from mend.consent.selectors import current_text
    from mend.dialogue import services as dialogue_services

    lead = User.objects.get(username=seed.LEAD_EMAIL)
    program = lead.memberships.get().program
    colleagues = list(User.objects.filter(username__startswith="colleague").order_by("username"))
    api_user = colleagues[0]
    _token, raw_token = account_services.api_token_create(actor=api_user, label="bench")

    # `send`: a party writing to their facilitator in their support conversation.
    facilitator_user = colleagues[1]
    case = case_services.case_create(
        actor=facilitator_user, program=program, harm_category="online_harassment", jurisdictions=["NZ"],
        referral_source="self", facilitator=facilitator_user,
    )  # fmt: skip
    _invitation, raw = case_services.participant_invite(
        actor=facilitator_user, case=case, role=Role.HARMED_PARTY
    )
    sign_in_name = "lantern-bench01"
    auth_key, wrap_key = env.derive_sign_in(sign_in_name, PASSPHRASE)
    party_keys = env.KeyPair.generate()
    party_user = case_services.invitation_accept(
        raw_token=raw, pseudonym="Lantern", sign_in_name=sign_in_name, auth_key=auth_key,
        keys=_bundle_fields(party_keys, wrap_key),
    )  # fmt: skip
    place = case.participants.get(user=party_user)
    for scope in ("take_part", "facilitator_contact", "data_processing"):
        text = current_text(program, scope)
        consent_services.consent_give(actor=party_user, place=place, scope=scope, text_sha256=text.sha256)
    conversation = dialogue_services.conversation_open(case=case, kind="support", party=place)
    actors = Actors(
        lead_session=session_for(lead, second_factor=True),
        lead_id=lead.pk,
        api_user_id=api_user.pk,
        api_token=raw_token,
        send_conversation=conversation.public_id,
        party=Person(party_user.pk, session_for(party_user, second_factor=False), party_keys),
        facilitator=_staff_person(facilitator_user),
        sign_in_name=sign_in_name,
        auth_key=auth_key,
    )

    # `fanout`: the case team conversation of a case with N + 1 facilitators; one writes, N receive.
    sender_user, others = colleagues[2], colleagues[3:]
    sender = _staff_person(sender_user)
    people = {u.pk: _staff_person(u) for u in others[: max(FANOUT)]}
    for n in FANOUT:
        case = case_services.case_create(
            actor=sender_user, program=program, harm_category="fraud", jurisdictions=["NZ"],
            referral_source="self", facilitator=sender_user,
        )  # fmt: skip
        for user in others[:n]:
            case_services.facilitator_assign(
                actor=sender_user, case=case, user=user, role=Role.CO_FACILITATOR
            )
        team = dialogue_services.conversation_open(case=case, kind="team")
        actors.fanout[n] = {
            "conversation": team.public_id,
            "sender": sender,
            "recipients": [people[u.pk] for u in others[:n]],
        }
    return actors
