"""Seeds the browser journeys' throwaway database: one program, one facilitator with no second factor yet,
and one case. Run by the e2e fixture with the venv's python, in the server's environment; prints JSON.

Every name here is invented.
"""

import json
import os
import sys

FACILITATOR_EMAIL = "juniper@tidewater.test"
FACILITATOR_NAME = "Juniper Vale"
FACILITATOR_PASSWORD = "salt marsh heron lantern 17"


def seed() -> dict:
    from mend.accounts import services as account_services
    from mend.cases import services as case_services

    program = account_services.program_create(
        actor=None, name="Tidewater Restorative Circle", slug="tidewater", jurisdictions=["NZ"]
    )
    # No TOTP device on purpose: the first journey enrols one through the browser.
    facilitator = account_services.staff_create(
        actor=None,
        email=FACILITATOR_EMAIL,
        display_name=FACILITATOR_NAME,
        password=FACILITATOR_PASSWORD,
        program=program,
        role="facilitator",
    )
    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="image_based_abuse",
        jurisdictions=["NZ"],
        referral_source="self",
        referral_details="An invented referral for the browser journeys.",
        facilitator=facilitator,
    )
    prepared = _prepared_case(program, facilitator)
    return {
        **prepared,
        "facilitator_email": FACILITATOR_EMAIL,
        "facilitator_name": FACILITATOR_NAME,
        "facilitator_password": FACILITATOR_PASSWORD,
        "case_reference": case.reference,
    }


PARTY_PHRASE = "kelp shore drift amber quiet ridge"


def _prepared_case(program, facilitator) -> dict:
    """A second case with both parties joined and everything the encounter needs already in place."""
    from mend.accounts.keys import join_credentials
    from mend.assessments import services as assessments
    from mend.cases import services as case_services
    from mend.consent import services as consent_services
    from mend.consent.selectors import current_text

    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="online_harassment",
        jurisdictions=["NZ"],
        referral_source="community",
        facilitator=facilitator,
    )
    places = {}
    for role, pseudonym, name in [
        ("harmed_party", "Marram", "marram-e2e"),
        ("responsible_party", "Tarn", "tarn-e2e"),
    ]:
        _invitation, raw = case_services.participant_invite(actor=facilitator, case=case, role=role)
        # A known name and phrase, so the journeys can sign in as this party.
        user = case_services.invitation_accept(
            raw_token=raw, pseudonym=pseudonym, **join_credentials(name, PARTY_PHRASE)
        )
        place = case.participants.get(user=user)
        for scope in ("take_part", "facilitator_contact", "direct_meeting", "data_processing"):
            text = current_text(program, scope)
            consent_services.consent_give(actor=user, place=place, scope=scope, text_sha256=text.sha256)
        assessments.assessment_sign_off(
            actor=facilitator, place=place, answers={"motivation": "Ready."}, outcome="ready"
        )
        places[role] = place
    harmed, responsible = places["harmed_party"], places["responsible_party"]
    consent_services.choices_update(
        actor=harmed.user,
        place=harmed,
        mode="direct",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="at_end",
    )
    assessments.acknowledgment_submit(
        actor=responsible.user,
        place=responsible,
        text="I sent those messages night after night and frightened Marram.",
    )
    assessments.acknowledgment_confirm(actor=facilitator, place=responsible)
    assessments.safety_plan_save(
        actor=facilitator,
        place=harmed,
        risks="Messages from new accounts.",
        measures="Block and report; facilitator present.",
    )
    assessments.conflict_declare(actor=facilitator, case=case, has_conflict=False)
    for action in ("accept_referral", "start_assessment", "start_preparation"):
        case_services.case_transition(actor=facilitator, case=case, action=action)
    return {
        "prepared_case_reference": case.reference,
        "harmed_sign_in": "marram-e2e",
        "responsible_sign_in": "tarn-e2e",
        "party_phrase": PARTY_PHRASE,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    # One JSON line on stdout, last, so that anything else printed cannot be mistaken for it.
    sys.stdout.write("\n" + json.dumps(seed()) + "\n")
