"""The test side of the case builder (mend.builders): the cast every test shares, staff with a second
factor, signed-in clients, and the cast's case made ready for its encounter. Tests import these from here;
tests/conftest.py only turns them into fixtures."""

from dataclasses import dataclass, replace

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend import builders
from mend.accounts import services as account_services
from mend.accounts.models import Program, User
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role

PASSWORD = "a long test password 42"

# Sealed with the accounts key as in production (mend.accounts.sealing), over a fast Argon2.
FAST_HASHERS = ["mend.accounts.sealing.SealedPasswordHasher", "tests.hashers.FastArgon2PasswordHasher"]

join = builders.join
consent = builders.give_consent


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


# What the cast's people say while their case is prepared (tests assert some of these words).
CAST_READINESS = builders.Readiness(
    supporters_may_attend=True,
    acknowledgment="I shared the pictures without asking, and I know it hurt Wren a great deal.",
    motivation="Wants to be heard.",
    risks="Contact outside the process.",
    measures="Meetings only with the facilitator present.",
)


def prepare_for_encounter(cast: Cast, *, mode: str = "direct") -> None:
    """Everything the encounter guards ask for, done by the people who must do it; the case in preparation."""
    builders.prepare(
        cast.case,
        facilitator=cast.facilitator,
        harmed=[cast.harmed],
        responsible=[cast.responsible],
        readiness=replace(CAST_READINESS, mode=mode),
    )
    cast.case.refresh_from_db()


def facilitator_place(case: Case, user: User) -> Participant:
    """The staff member's own place in the case (made when they were assigned to it)."""
    return case.participants.get(user=user, removed_at__isnull=True)
