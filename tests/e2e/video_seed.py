"""Seeds a case meeting by video whose time has come: a program of its own, a facilitator whose authenticator
the tests hold, a person harmed and a person responsible who both consent to meet directly and are prepared
for it, and a supporter of the person harmed who is in the case but not invited to the meeting.

Run it with the venv's python in the server's environment, as tests/e2e/conftest.py runs seed.py; it prints
one JSON line, last. The argument is a short tag that keeps names apart when several cases are seeded.
Every name here is invented.
"""

import json
import os
import secrets
import sys
from datetime import timedelta

PHRASE = "kelp harbour lantern shingle reed osprey"
PASSWORD = "breakwater tide pool 17 lighthouse"


def seed(tag: str) -> dict:
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend.accounts import services as account_services
    from mend.accounts.keys import join_credentials
    from mend.assessments import services as assessments
    from mend.cases import services as case_services
    from mend.circles import services as sessions
    from mend.circles.models import Session
    from mend.consent import services as consent_services
    from mend.consent.selectors import current_text

    program = account_services.program_create(
        actor=None, name=f"Harbour Light {tag}", slug=f"harbour-{tag}", jurisdictions=["NZ"]
    )
    email = f"ira.{tag}@harbour.test"
    facilitator = account_services.staff_create(
        actor=None,
        email=email,
        display_name="Ira Lowe",
        password=PASSWORD,
        program=program,
        role="facilitator",
    )
    totp_key = secrets.token_hex(20)
    TOTPDevice.objects.create(user=facilitator, name="authenticator app", key=totp_key, confirmed=True)
    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="online_harassment",
        jurisdictions=["NZ"],
        referral_source="self",
        referral_details="An invented referral for the video journeys.",
        facilitator=facilitator,
    )
    places, names = {}, {}
    people = [("harmed_party", "Marram", None), ("responsible_party", "Tern", None), ("supporter", "Pipi", 0)]
    for role, pseudonym, supports in people:
        supported = places["harmed_party"] if supports is not None else None
        _invitation, raw = case_services.participant_invite(
            actor=facilitator, case=case, role=role, supports=supported
        )
        names[role] = f"{pseudonym.lower()}-{tag}"
        user = case_services.invitation_accept(
            raw_token=raw, pseudonym=pseudonym, **join_credentials(names[role], PHRASE)
        )
        place = case.participants.get(user=user)
        scopes = ["take_part", "facilitator_contact", "data_processing"]
        if role != "supporter":
            scopes.append("direct_meeting")
        for scope in scopes:
            text = current_text(program, scope)
            consent_services.consent_give(actor=user, place=place, scope=scope, text_sha256=text.sha256)
        places[role] = place
    harmed, responsible = places["harmed_party"], places["responsible_party"]
    for place in (harmed, responsible):
        assessments.assessment_sign_off(
            actor=facilitator, place=place, answers={"motivation": "Ready to meet."}, outcome="ready"
        )
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
        text="I sent Marram messages from new accounts after she blocked me, and I know it scared her.",
    )
    assessments.acknowledgment_confirm(actor=facilitator, place=responsible)
    assessments.safety_plan_save(
        actor=facilitator,
        place=harmed,
        risks="Contact outside the meeting.",
        measures="The facilitator is in the room the whole time; Marram can leave at any moment.",
    )
    assessments.conflict_declare(actor=facilitator, case=case, has_conflict=False)
    for action in ("accept_referral", "start_assessment", "start_preparation", "begin_encounter"):
        case = case_services.case_transition(actor=facilitator, case=case, action=action)
    facilitator_place = case.participants.get(user=facilitator)
    session = sessions.session_schedule(
        actor=facilitator,
        case=case,
        kind="dialogue",
        format="video",
        starts_at=timezone.now() + timedelta(minutes=10),
        time_zone="Pacific/Auckland",
        attendees=[facilitator_place, harmed, responsible],
    )
    # The meeting's time has come (scheduling only takes times ahead): it began two minutes ago, not yet
    # opened. The facilitator opens it by joining its room.
    Session.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(minutes=2))
    return {
        "case_reference": case.reference,
        "facilitator_email": email,
        "facilitator_password": PASSWORD,
        "facilitator_name": "Ira Lowe",
        "totp_key": totp_key,
        "harmed_sign_in": names["harmed_party"],
        "harmed_pseudonym": "Marram",
        "responsible_sign_in": names["responsible_party"],
        "responsible_pseudonym": "Tern",
        "supporter_sign_in": names["supporter"],
        "phrase": PHRASE,
        "direct_conversation": "",
        "session_id": session.pk,
        "facilitator_id": f"p{facilitator_place.pk}",
        "harmed_id": f"p{harmed.pk}",
        "responsible_id": f"p{responsible.pk}",
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    tag = sys.argv[1] if len(sys.argv) > 1 else secrets.token_hex(3)
    sys.stdout.write("\n" + json.dumps(seed(tag)) + "\n")
