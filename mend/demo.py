"""The demo program: invented people and places only, three cases modelled on the source documents."""

from django.db import transaction

from mend.accounts import services as account_services
from mend.accounts.credentials import new_sign_in_name
from mend.accounts.keys import (
    credentials_from_secret,
    join_credentials,
    key_bundle_create,
    unknown_credentials,
)
from mend.accounts.models import Program, User
from mend.assessments import services as assessment_services
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.consent import services as consent_services
from mend.consent.selectors import current_text

DEMO_SLUG = "harbour-demo"
DEMO_PASSWORD = "mend-demo-password"
DEMO_PHRASE = "quiet harbour lantern morning cedar tide"
STAFF = [
    ("coordinator@demo.mend.test", "Rowan Ashdown", "coordinator"),
    ("facilitator@demo.mend.test", "Tamsin Reed", "facilitator"),
    ("facilitator2@demo.mend.test", "Ilo Marsh", "facilitator"),
    ("admin@demo.mend.test", "Bram Ellory", "admin"),
]


def _consent(place, *scopes):
    for scope in scopes:
        text = current_text(place.case.program, scope)
        consent_services.consent_give(actor=place.user, place=place, scope=scope, text_sha256=text.sha256)


def _join(*, actor, case, role, pseudonym, supports=None, sign_in_name=None, tz="Pacific/Auckland"):
    invitation, raw = case_services.participant_invite(actor=actor, case=case, role=role, supports=supports)
    # Demo accounts get a known name and phrase so that the README can say how to sign in; the others a
    # phrase nobody knows.
    credentials = (
        join_credentials(sign_in_name, DEMO_PHRASE)
        if sign_in_name
        else unknown_credentials(new_sign_in_name())
    )
    user = case_services.invitation_accept(raw_token=raw, pseudonym=pseudonym, time_zone=tz, **credentials)
    if sign_in_name:
        user.is_demo = True
        user.save(update_fields=["is_demo"])
    place = invitation.participant
    place.refresh_from_db()
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
    for place in (wren, kestrel):
        _consent(place, "take_part", "facilitator_contact", "indirect_exchange", "data_processing")
    consent_services.choices_update(
        actor=wren.user,
        place=wren,
        mode="indirect",
        supporters_may_attend=True,
        community_may_attend=False,
        progress_updates="every_n_weeks",
        progress_every_weeks=4,
    )
    assessment_services.acknowledgment_submit(
        actor=kestrel.user,
        place=kestrel,
        text="I kept going when Wren said stop. I know that took away her sense of safety.",
    )
    case_services.case_transition(actor=tamsin, case=first, action="start_assessment")
    case_services.case_transition(actor=tamsin, case=first, action="start_preparation")

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
