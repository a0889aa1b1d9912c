"""Seeds a case ready for the encrypted conversations: a program of its own, a facilitator whose
authenticator the tests hold, and two parties (with keys made from phrases the tests know) at the encounter
stage, the person harmed having chosen an exchange through the facilitator.

Run it with the venv's python in the server's environment, as tests/e2e/conftest.py runs seed.py; it prints
one JSON line, last. The argument is a short tag that keeps names apart when several cases are seeded.
Every name here is invented.
"""

import json
import os
import secrets
import sys

PHRASE = "tussock inlet lamp cobble fern willow"
PASSWORD = "estuary mudflat godwit 42 lantern"


def seed(tag: str, *, agreement: bool = False) -> dict:
    """`agreement`: a second person harmed, Tui, who chose never to hear of progress, while Sorrel chose to
    hear after each checked item; both consent to hearing of progress (for the agreement journey)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend import builders
    from mend.accounts import services as account_services
    from mend.accounts.keys import join_credentials
    from mend.cases import services as case_services
    from mend.dialogue import services as dialogue_services
    from mend.dialogue.models import Conversation

    program = account_services.program_create(
        actor=None, name=f"Estuary Circle {tag}", slug=f"estuary-{tag}", jurisdictions=["NZ"]
    )
    email = f"rowan.{tag}@estuary.test"
    facilitator = account_services.staff_create(
        actor=None,
        email=email,
        display_name="Rowan Fenwick",
        password=PASSWORD,
        program=program,
        role="facilitator",
    )
    # No keys yet: the facilitator's first sign-in in the browser makes them and shows a recovery code.
    # An authenticator the tests hold: they compute its codes to pass the second step in the browser.
    totp_key = secrets.token_hex(20)
    TOTPDevice.objects.create(user=facilitator, name="authenticator app", key=totp_key, confirmed=True)
    case = case_services.case_create(
        actor=facilitator,
        program=program,
        harm_category="image_based_abuse",
        jurisdictions=["NZ"],
        referral_source="self",
        referral_details="An invented referral for the conversation journeys.",
        facilitator=facilitator,
    )
    names, places = {}, {}
    people = [("harmed_party", "Sorrel"), ("responsible_party", "Brook")]
    if agreement:
        people.append(("second_harmed", "Tui"))
    for role, pseudonym in people:
        names[role] = f"{pseudonym.lower()}-{tag}"
        places[role] = builders.join(
            actor=facilitator,
            case=case,
            role="harmed_party" if role == "second_harmed" else role,
            pseudonym=pseudonym,
            credentials=join_credentials(names[role], PHRASE),
        )
    case = builders.prepare(
        case,
        facilitator=facilitator,
        harmed=[place for role, place in places.items() if role != "responsible_party"],
        responsible=[places["responsible_party"]],
        readiness=builders.Readiness(
            mode="indirect",
            extra_scopes=("data_processing",),
            harmed_scopes=("progress_updates",) if agreement else (),
            progress_updates=("each_verified", "never") if agreement else "at_end",
            acknowledgment="I shared the photos of Sorrel without asking, and I know it frightened her.",
            motivation="Ready to write.",
            risks="Contact from new accounts.",
            measures="Messages only through the facilitator.",
        ),
        actions=builders.TO_ENCOUNTER,
    )
    # The direct conversation of the first person harmed and the person responsible (issue 16: one per pair).
    direct = dialogue_services.conversation_open(
        case=case,
        kind=Conversation.Kind.DIRECT,
        party=places["harmed_party"],
        counterpart=places["responsible_party"],
    )
    extra = {}
    if agreement:
        extra = {"second_harmed_sign_in": names["second_harmed"], "second_harmed_pseudonym": "Tui"}
    return {
        **extra,
        "case_reference": case.reference,
        "stage": case.stage,
        "facilitator_email": email,
        "facilitator_password": PASSWORD,
        "facilitator_name": "Rowan Fenwick",
        "totp_key": totp_key,
        "harmed_sign_in": names["harmed_party"],
        "harmed_pseudonym": "Sorrel",
        "responsible_sign_in": names["responsible_party"],
        "responsible_pseudonym": "Brook",
        "phrase": PHRASE,
        "direct_conversation": direct.public_id,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    tag = sys.argv[1] if len(sys.argv) > 1 else secrets.token_hex(3)
    sys.stdout.write("\n" + json.dumps(seed(tag, agreement="--agreement" in sys.argv)) + "\n")
