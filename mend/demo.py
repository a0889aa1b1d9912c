"""The demo program: invented people and places only, three cases modelled on the source documents."""

from django.db import transaction

from mend import builders
from mend.accounts import services as account_services
from mend.accounts.credentials import normalise_phrase
from mend.accounts.keys import derive_sign_in, key_bundle_create
from mend.accounts.models import Program, User
from mend.assessments import services as assessments
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.core import envelope as env

DEMO_SLUG = "harbour-demo"
DEMO_PASSWORD = "mend-demo-password"
DEMO_PHRASE = "quiet harbour lantern morning cedar tide"
# One recovery code for every demo account, printed with the sign-ins so that the recovery page can be tried.
DEMO_RECOVERY_CODE = "HARB-OURD-EMOR-ECOV-ERYC-ODEQ-UIET-TIDE"
STAFF = [
    ("coordinator@demo.mend.test", "Rowan Ashdown", "coordinator"),
    ("facilitator@demo.mend.test", "Tamsin Reed", "facilitator"),
    ("facilitator2@demo.mend.test", "Ilo Marsh", "facilitator"),
    ("admin@demo.mend.test", "Bram Ellory", "admin"),
]


def demo_keys(identifier: str, secret: str) -> tuple[str, dict]:
    """As mend.accounts.keys.credentials_from_secret, but the keys' second copy is wrapped under the printed
    DEMO_RECOVERY_CODE instead of a code nobody knows: (the derived sign-in key, the key bundle's fields)."""
    auth_key, wrap_key = derive_sign_in(identifier, secret)
    pair = env.KeyPair.generate()
    recovery_auth, recovery_wrap = env.derive_recovery(DEMO_RECOVERY_CODE)
    return auth_key, {
        **pair.public(),
        "wrapped": env.wrap_keys(wrap_key, pair),
        "recovery_wrapped": env.wrap_keys(recovery_wrap, pair),
        "recovery_auth": recovery_auth,
    }


def _join(*, actor, case, role, pseudonym, supports=None, sign_in_name=None, tz="Pacific/Auckland"):
    # Demo accounts get a known name, phrase and recovery code so that the README can say how to sign in;
    # the others a phrase nobody knows.
    credentials = None
    if sign_in_name:
        auth_key, keys = demo_keys(sign_in_name, normalise_phrase(DEMO_PHRASE))
        credentials = {"sign_in_name": sign_in_name, "auth_key": auth_key, "keys": keys}
    place = builders.join(
        actor=actor,
        case=case,
        role=role,
        pseudonym=pseudonym,
        supports=supports,
        credentials=credentials,
        time_zone=tz,
    )
    if sign_in_name:
        place.user.is_demo = True
        place.user.save(update_fields=["is_demo"])
    return place


@transaction.atomic
def load(*, one_stopped: bool = True) -> bool:
    """Creates the demo program once; returns False when it was already there. `one_stopped`: see
    data_breach."""
    if Program.objects.filter(slug=DEMO_SLUG).exists():
        return False
    program = account_services.program_create(
        actor=None,
        name="Harbour Restorative Justice (demo)",
        slug=DEMO_SLUG,
        time_zone="Pacific/Auckland",
        jurisdictions=["NZ", "AU"],
        role_words={},
        retention_days=365 * 7,
    )
    staff: dict[str, User] = {}
    for email, name, role in STAFF:
        staff[role if role not in staff else role + "2"] = account_services.staff_create(
            actor=None,
            email=email,
            display_name=name,
            password=DEMO_PASSWORD,
            program=program,
            role=role,
            time_zone="Pacific/Auckland",
            is_demo=True,
        )
    # Demo staff have keys from the start (wrapped under the demo password), so that whoever tries the demo
    # first, a party or a facilitator, writes to people who can already read.
    for user in staff.values():
        key_bundle_create(actor=user, **demo_keys(user.username, DEMO_PASSWORD)[1])
    coordinator, tamsin, ilo = staff["coordinator"], staff["facilitator"], staff["facilitator2"]

    # 1. Sexual harm; the person harmed asked for an indirect exchange through the facilitator.
    first = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="sexual_assault",
        jurisdictions=["NZ"],
        referral_source="self",
        referral_details="Self-referral through the program's phone line.",
        intake_notes="Person harmed asked for an indirect exchange, relayed by the facilitator.",
        facilitator=tamsin,
    )
    case_services.case_transition(actor=coordinator, case=first, action="accept_referral")
    wren = _join(actor=tamsin, case=first, role=Role.HARMED_PARTY, pseudonym="Wren", sign_in_name="wren-demo")
    kestrel = _join(
        actor=tamsin,
        case=first,
        role=Role.RESPONSIBLE_PARTY,
        pseudonym="Kestrel",
        sign_in_name="kestrel-demo",
    )
    # Not ready yet: the assessments, the facilitator's confirmation and the safety plan are still to come.
    builders.prepare(
        first,
        facilitator=tamsin,
        harmed=[wren],
        responsible=[kestrel],
        readiness=builders.Readiness(
            mode="indirect",
            extra_scopes=("data_processing",),
            supporters_may_attend=True,
            progress_updates="every_n_weeks",
            progress_every_weeks=4,
            acknowledgment="I kept going when Wren said stop. I know that took away her sense of safety.",
        ),
        ready=False,
        actions=("start_assessment", "start_preparation"),
    )

    # 2. A data breach: five people whose records were exposed, one person responsible, across borders.
    # All five chose to meet; one of them has since stopped taking part, and the case goes on for the others.
    data_breach(program, coordinator=coordinator, facilitator=ilo, one_stopped=one_stopped)

    # 3. Three teenagers who got into their school's system, each with their own supporter, and two of the
    # school's staff they harmed: everyone is prepared, and the case is ready for its community conference.
    school_case(program, coordinator=coordinator, facilitator=tamsin, co_facilitator=ilo)
    return True


# Each person gets a time zone of their own (invented people in real places): dates on their pages are in it.
BREACH_HARMED = [
    ("Heron", "heron-demo", "Pacific/Auckland"),
    ("Tern", "tern-demo", "Australia/Sydney"),
    ("Plover", "plover-demo", "Australia/Perth"),
    ("Godwit", "godwit-demo", "Pacific/Chatham"),
    ("Dotterel", "dotterel-demo", "Australia/Hobart"),
]
BREACH_RESPONSIBLE = ("Falcon", "falcon-demo", "Australia/Brisbane")
BREACH_STOPPED = "Dotterel"  # the one of the five who stopped taking part
SCHOOL_HARMED = [("Kauri", "kauri-demo", "Pacific/Auckland"), ("Rimu", "rimu-demo", "Pacific/Auckland")]
# Each youth, and the supporter attached to that youth only.
SCHOOL_YOUTHS = [
    ("Sparrow", "sparrow-demo", "Totara", "totara-demo"),
    ("Finch", "finch-demo", "Hinau", "hinau-demo"),
    ("Linnet", "linnet-demo", "Miro", "miro-demo"),
]


def data_breach(program: Program, *, coordinator: User, facilitator: User, one_stopped: bool = True):
    """The data-breach case: everyone prepared, the case at its encounter; with `one_stopped`, Dotterel has
    withdrawn her consent to take part (the browser journey leaves that to her, and passes False)."""
    breach = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="data_breach",
        jurisdictions=["NZ", "AU-NSW"],
        referral_source="prosecutor",
        referral_details="Diversion referral after a breach of a clinic's booking system.",
        facilitator=facilitator,
    )
    harmed = [
        _join(
            actor=facilitator, case=breach, role=Role.HARMED_PARTY, pseudonym=name, sign_in_name=login, tz=tz
        )
        for name, login, tz in BREACH_HARMED
    ]
    name, login, tz = BREACH_RESPONSIBLE
    falcon = _join(
        actor=facilitator, case=breach, role=Role.RESPONSIBLE_PARTY, pseudonym=name, sign_in_name=login, tz=tz
    )
    breach = builders.prepare(
        breach,
        facilitator=facilitator,
        harmed=harmed,
        responsible=[falcon],
        readiness=builders.Readiness(
            mode="direct",
            extra_scopes=("data_processing",),
            harmed_scopes=("progress_updates",),
            progress_updates="at_end",
            acknowledgment="I copied the clinic's booking records and left them where anyone could see them.",
            motivation="Wants to understand why it happened.",
            risks="Worry about where the records went.",
            measures="The facilitator is present; no contact outside the process.",
        ),
        actions=builders.TO_ENCOUNTER,
    )
    if one_stopped:
        # Her own path stops; the case goes on for the four others and the person responsible.
        builders.stop(next(p for p in harmed if p.pseudonym == BREACH_STOPPED))
        breach.refresh_from_db()
    return breach


def school_case(program: Program, *, coordinator: User, facilitator: User, co_facilitator: User):
    """The school case: everyone prepared, the staff harmed chose to meet the youths, supporters may come;
    the case at its encounter with no conference scheduled yet."""
    school = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="unauthorised_access",
        jurisdictions=["NZ"],
        referral_source="education",
        referral_details="Referred by the school board after the grades system was entered.",
        facilitator=facilitator,
    )
    case_services.facilitator_assign(
        actor=coordinator, case=school, user=co_facilitator, role=Role.CO_FACILITATOR
    )
    youths, supporters = [], []
    for youth, youth_login, supporter, supporter_login in SCHOOL_YOUTHS:
        place = _join(
            actor=facilitator,
            case=school,
            role=Role.RESPONSIBLE_PARTY,
            pseudonym=youth,
            sign_in_name=youth_login,
            tz="Pacific/Auckland",
        )
        youths.append(place)
        supporters.append(
            _join(
                actor=facilitator,
                case=school,
                role=Role.SUPPORTER,
                pseudonym=supporter,
                supports=place,
                sign_in_name=supporter_login,
                tz="Pacific/Auckland",
            )
        )
    staff_harmed = [
        _join(
            actor=facilitator, case=school, role=Role.HARMED_PARTY, pseudonym=name, sign_in_name=login, tz=tz
        )
        for name, login, tz in SCHOOL_HARMED
    ]
    community = _join(actor=facilitator, case=school, role=Role.COMMUNITY_MEMBER, pseudonym="Matai")
    for place in (*supporters, community):
        builders.give_consent(place, "take_part", "facilitator_contact")
    assessments.conflict_declare(actor=co_facilitator, case=school, has_conflict=False)
    return builders.prepare(
        school,
        facilitator=facilitator,
        harmed=staff_harmed,
        responsible=youths,
        readiness=builders.Readiness(
            mode="direct",
            extra_scopes=("data_processing", "supporters_present"),
            supporters_may_attend=True,
            community_may_attend=True,
            progress_updates="at_end",
            acknowledgment="We got into the school's grades system and changed marks. It hurt the staff.",
            motivation="Wants to put it right with the staff.",
            risks="Talk about it at school.",
            measures="The facilitators are present; the school knows the plan.",
        ),
        actions=builders.TO_ENCOUNTER,
    )


def _names(people) -> str:
    return ", ".join(people)


_YOUTHS = _names(y[1] for y in SCHOOL_YOUTHS)
_SUPPORTERS = _names(y[3] for y in SCHOOL_YOUTHS)


SIGN_IN_HELP = f"""Demo sign-in (demo mode skips the second step for these accounts):
  staff:   facilitator@demo.mend.test   password: {DEMO_PASSWORD}
           facilitator2@demo.mend.test  password: {DEMO_PASSWORD}  (runs the data-breach case)
           coordinator@demo.mend.test   password: {DEMO_PASSWORD}
  people in the cases, each with the phrase: {DEMO_PHRASE}
    person harmed:      sign-in name wren-demo     person responsible: kestrel-demo
    data breach, people harmed: {_names(login for _n, login, _tz in BREACH_HARMED)}
      ({BREACH_STOPPED} has stopped taking part); person responsible: {BREACH_RESPONSIBLE[1]}
    school, staff harmed: {_names(login for _n, login, _tz in SCHOOL_HARMED)}
      youths: {_YOUTHS}; each with their own supporter: {_SUPPORTERS}
  recovery code of every demo account, staff and people in the cases: {DEMO_RECOVERY_CODE}
    (on the page "Use your recovery code"; it sets a new phrase or password for that account)"""
