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
    prepared = prepared_case(program, facilitator)
    return {
        **prepared,
        "facilitator_email": FACILITATOR_EMAIL,
        "facilitator_name": FACILITATOR_NAME,
        "facilitator_password": FACILITATOR_PASSWORD,
        "case_reference": case.reference,
    }


PARTY_PHRASE = "kelp shore drift amber quiet ridge"


def prepared_case(program, facilitator) -> dict:
    """A second case with both parties joined and everything the encounter needs already in place."""
    from mend import builders
    from mend.accounts.keys import join_credentials

    prepared = builders.prepared_case(
        program=program,
        facilitator=facilitator,
        harmed=["Marram"],
        responsible=["Tarn"],
        referral_source="community",
        # A known name and phrase, so the journeys can sign in as each party.
        credentials=lambda pseudonym: join_credentials(f"{pseudonym.lower()}-e2e", PARTY_PHRASE),
        readiness=builders.Readiness(
            extra_scopes=("data_processing",),
            acknowledgment="I sent those messages night after night and frightened Marram.",
            risks="Messages from new accounts.",
            measures="Block and report; facilitator present.",
        ),
    )
    return {
        "prepared_case_reference": prepared.case.reference,
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
