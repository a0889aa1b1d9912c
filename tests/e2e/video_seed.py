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
PEOPLE = [("harmed_party", "Marram"), ("responsible_party", "Tern"), ("supporter", "Pipi")]


def seed(tag: str) -> dict:
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend import builders
    from mend.accounts import services as account_services
    from mend.accounts.keys import join_credentials
    from mend.cases import services as case_services
    from mend.meetings import scheduling
    from mend.meetings.models import Meeting

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
    names = {role: f"{pseudonym.lower()}-{tag}" for role, pseudonym in PEOPLE}
    harmed, responsible = (
        builders.join(
            actor=facilitator,
            case=case,
            role=role,
            pseudonym=pseudonym,
            credentials=join_credentials(names[role], PHRASE),
        )
        for role, pseudonym in PEOPLE[:2]
    )
    supporter = builders.join(
        actor=facilitator,
        case=case,
        role="supporter",
        pseudonym="Pipi",
        supports=harmed,
        credentials=join_credentials(names["supporter"], PHRASE),
    )
    builders.give_consent(supporter, "take_part", "facilitator_contact", "data_processing")
    case = builders.prepare(
        case,
        facilitator=facilitator,
        harmed=[harmed],
        responsible=[responsible],
        readiness=builders.Readiness(
            extra_scopes=("data_processing",),
            acknowledgment="I sent Marram messages from new accounts after she blocked me, and I know it "
            "scared her.",
            motivation="Ready to meet.",
            risks="Contact outside the meeting.",
            measures="The facilitator is in the room the whole time; Marram can leave at any moment.",
        ),
        actions=builders.TO_ENCOUNTER,
    )
    facilitator_place = case.participants.get(user=facilitator)
    session = scheduling.meeting_schedule(
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
    Meeting.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(minutes=2))
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
