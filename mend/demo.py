"""The demo program: invented people and places only, three cases modelled on the source documents."""

from django.db import transaction

from mend import builders
from mend.accounts import services as account_services
from mend.accounts.keys import credentials_from_secret, join_credentials, key_bundle_create
from mend.accounts.models import Program, User
from mend.cases import services as case_services
from mend.cases.models import Role

DEMO_SLUG = "harbour-demo"
DEMO_PASSWORD = "mend-demo-password"
DEMO_PHRASE = "quiet harbour lantern morning cedar tide"
STAFF = [
    ("coordinator@demo.mend.test", "Rowan Ashdown", "coordinator"),
    ("facilitator@demo.mend.test", "Tamsin Reed", "facilitator"),
    ("facilitator2@demo.mend.test", "Ilo Marsh", "facilitator"),
    ("admin@demo.mend.test", "Bram Ellory", "admin"),
]


def _join(*, actor, case, role, pseudonym, supports=None, sign_in_name=None, tz="Pacific/Auckland"):
    # Demo accounts get a known name and phrase so that the README can say how to sign in; the others a
    # phrase nobody knows.
    credentials = join_credentials(sign_in_name, DEMO_PHRASE) if sign_in_name else None
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
def load() -> bool:
    """Creates the demo program once; returns False when it was already there."""
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
        key_bundle_create(actor=user, **credentials_from_secret(user.username, DEMO_PASSWORD)[1])
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
    breach = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="data_breach",
        jurisdictions=["NZ", "AU-NSW"],
        referral_source="prosecutor",
        referral_details="Diversion referral after a breach of a clinic's booking system.",
        facilitator=ilo,
    )
    case_services.case_transition(actor=coordinator, case=breach, action="accept_referral")
    for name in ["Heron", "Tern", "Plover", "Godwit", "Dotterel"]:
        _join(actor=ilo, case=breach, role=Role.HARMED_PARTY, pseudonym=name)
    _join(actor=ilo, case=breach, role=Role.RESPONSIBLE_PARTY, pseudonym="Falcon")
    case_services.case_transition(actor=ilo, case=breach, action="start_assessment")

    # 3. Three teenagers who got into their school's system, heading for a community conference.
    school = case_services.case_create(
        actor=coordinator,
        program=program,
        harm_category="unauthorised_access",
        jurisdictions=["NZ"],
        referral_source="education",
        referral_details="Referred by the school board after the grades system was entered.",
        facilitator=tamsin,
    )
    case_services.facilitator_assign(actor=coordinator, case=school, user=ilo, role=Role.CO_FACILITATOR)
    case_services.case_transition(actor=coordinator, case=school, action="accept_referral")
    teens = [
        _join(actor=tamsin, case=school, role=Role.RESPONSIBLE_PARTY, pseudonym=n)
        for n in ["Sparrow", "Finch", "Linnet"]
    ]
    _join(actor=tamsin, case=school, role=Role.HARMED_PARTY, pseudonym="Kauri")
    _join(actor=tamsin, case=school, role=Role.HARMED_PARTY, pseudonym="Rimu")
    _join(actor=tamsin, case=school, role=Role.SUPPORTER, pseudonym="Totara", supports=teens[0])
    _join(actor=tamsin, case=school, role=Role.COMMUNITY_MEMBER, pseudonym="Matai")
    case_services.case_transition(actor=tamsin, case=school, action="start_assessment")
    case_services.case_transition(actor=tamsin, case=school, action="start_preparation")
    return True


SIGN_IN_HELP = f"""Demo sign-in (demo mode skips the second step for these accounts):
  staff:   facilitator@demo.mend.test   password: {DEMO_PASSWORD}
           coordinator@demo.mend.test   password: {DEMO_PASSWORD}
  person harmed:      sign-in name wren-demo     phrase: {DEMO_PHRASE}
  person responsible: sign-in name kestrel-demo  phrase: {DEMO_PHRASE}"""
