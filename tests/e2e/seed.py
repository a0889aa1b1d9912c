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
    return {
        "facilitator_email": FACILITATOR_EMAIL,
        "facilitator_name": FACILITATOR_NAME,
        "facilitator_password": FACILITATOR_PASSWORD,
        "case_reference": case.reference,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    # One JSON line on stdout, last, so that anything else printed cannot be mistaken for it.
    sys.stdout.write("\n" + json.dumps(seed()) + "\n")
