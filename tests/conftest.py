"""The cast of a case, shared by every test: staff of two programs, the parties, and an outsider."""

import functools
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend.accounts import services as account_services
from mend.accounts.credentials import new_sign_in_name
from mend.accounts.keys import unknown_credentials
from mend.accounts.models import Program, User
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.core import envelope

PASSWORD = "a long test password 42"

# PBKDF2 with 600,000 iterations is the point in production and a cost in tests, where the same few
# people sign in again and again: each derivation is made once per run (the result is the same).
envelope.derive_sign_in = functools.lru_cache(maxsize=None)(envelope.derive_sign_in)


# Sealed with the accounts key as in production (mend.accounts.sealing), over a fast Argon2.
FAST_HASHERS = ["mend.accounts.sealing.SealedPasswordHasher", "tests.hashers.FastArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _own_rate_limit_counts(settings):
    """Each test counts tries afresh (the cache may be a Redis shared by the run), at the real limits."""
    import uuid

    settings.RATELIMIT_CACHE_PREFIX = f"mend:rl:test-{uuid.uuid4().hex}:"


def make_program(name="Riverbend Restorative Programme", slug="riverbend", **kwargs) -> Program:
    return account_services.program_create(
        actor=None, name=name, slug=slug, jurisdictions=kwargs.pop("jurisdictions", ["NZ"]), **kwargs
    )


def make_staff(program: Program, role: str, email: str, name: str) -> User:
    user = account_services.staff_create(
        actor=None, email=email, display_name=name, password=PASSWORD, program=program, role=role
    )
    TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def join(*, actor, case, role, pseudonym, supports=None) -> Participant:
    invitation, raw = case_services.participant_invite(actor=actor, case=case, role=role, supports=supports)
    case_services.invitation_accept(
        raw_token=raw, pseudonym=pseudonym, **unknown_credentials(new_sign_in_name())
    )
    invitation.participant.refresh_from_db()
    return invitation.participant


def signed_in(user: User) -> Client:
    """A client signed in as the user; staff also have their second factor checked."""
    client = Client()
    client.force_login(user)
    if user.is_staff_member:
        device = TOTPDevice.objects.get(user=user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@dataclass
class Cast:
    program: Program
    other_program: Program
    admin: User
    coordinator: User
    facilitator: User
    other_facilitator_same_program: User
    volunteer: User
    other_program_facilitator: User
    harmed: Participant
    responsible: Participant
    supporter: Participant
    outsider: User
    case: Case

    def client(self, who: str) -> Client:
        user = getattr(self, who)
        return signed_in(user.user if isinstance(user, Participant) else user)


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


def build_cast() -> Cast:
    program = make_program()
    other = make_program(name="Elsewhere Justice Trust", slug="elsewhere", jurisdictions=["AU"])
    admin = make_staff(program, "admin", "admin@riverbend.test", "Ada Admin")
    coordinator = make_staff(program, "coordinator", "coord@riverbend.test", "Cole Coordinator")
    facilitator = make_staff(program, "facilitator", "fac@riverbend.test", "Fen Facilitator")
    colleague = make_staff(program, "facilitator", "fac2@riverbend.test", "Gil Colleague")
    volunteer = make_staff(program, "volunteer", "vol@riverbend.test", "Vee Volunteer")
    stranger = make_staff(other, "facilitator", "fac@elsewhere.test", "Oro Elsewhere")
    case = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="image_based_abuse",
        jurisdictions=["NZ"],
        referral_source="police",
        referral_details="Referral from the cyber unit.",
        facilitator=facilitator,
    )
    harmed = join(actor=facilitator, case=case, role=Role.HARMED_PARTY, pseudonym="Wren")
    responsible = join(actor=facilitator, case=case, role=Role.RESPONSIBLE_PARTY, pseudonym="Kestrel")
    supporter = join(actor=facilitator, case=case, role=Role.SUPPORTER, pseudonym="Alder", supports=harmed)
    # An outsider: a participant of a different case, in the same program, who must not see this one.
    other_case = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="fraud",
        jurisdictions=["NZ"],
        referral_source="self",
    )
    outsider = join(actor=coordinator, case=other_case, role=Role.HARMED_PARTY, pseudonym="Moth").user
    case.refresh_from_db()
    return Cast(
        program=program,
        other_program=other,
        admin=admin,
        coordinator=coordinator,
        facilitator=facilitator,
        other_facilitator_same_program=colleague,
        volunteer=volunteer,
        other_program_facilitator=stranger,
        harmed=harmed,
        responsible=responsible,
        supporter=supporter,
        outsider=outsider,
        case=case,
    )


def consent(place: Participant, *scopes: str) -> None:
    from mend.consent.selectors import current_text
    from mend.consent.services import consent_give

    for scope in scopes:
        text = current_text(place.case.program, scope)
        consent_give(actor=place.user, place=place, scope=scope, text_sha256=text.sha256)


def prepare_for_encounter(cast: Cast, *, mode: str = "direct") -> None:
    """Everything the encounter guards ask for, done by the people who must do it."""
    from mend.assessments import services as assessments
    from mend.cases import services as cases
    from mend.consent import services as choices

    mode_scope = "direct_meeting" if mode == "direct" else "indirect_exchange"
    for place in (cast.harmed, cast.responsible):
        consent(place, "take_part", "facilitator_contact", mode_scope)
    choices.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode=mode,
        supporters_may_attend=True,
        community_may_attend=False,
        progress_updates="at_end",
    )
    assessments.acknowledgment_submit(
        actor=cast.responsible.user,
        place=cast.responsible,
        text="I shared the pictures without asking, and I know it hurt Wren a great deal.",
    )
    assessments.acknowledgment_confirm(actor=cast.facilitator, place=cast.responsible)
    for place in (cast.harmed, cast.responsible):
        assessments.assessment_sign_off(
            actor=cast.facilitator, place=place, answers={"motivation": "Wants to be heard."}, outcome="ready"
        )
    assessments.safety_plan_save(
        actor=cast.facilitator,
        place=cast.harmed,
        risks="Contact outside the process.",
        measures="Meetings only with the facilitator present.",
    )
    assessments.conflict_declare(actor=cast.facilitator, case=cast.case, has_conflict=False)
    for action in ("accept_referral", "start_assessment", "start_preparation"):
        cases.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    cast.case.refresh_from_db()


@pytest.fixture
def colleague(cast):
    """A co-facilitator of the case, signed in, with an API token."""
    user = cast.other_facilitator_same_program
    case_services.facilitator_assign(
        actor=cast.coordinator, case=cast.case, user=user, role=Role.CO_FACILITATOR
    )
    user.client = signed_in(user)
    _token, user.raw_token = account_services.api_token_create(actor=user, label="laptop")
    return user
