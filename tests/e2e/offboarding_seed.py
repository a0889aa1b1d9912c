"""A program with an admin already signed in (second factor checked) and a colleague who facilitates one of
its cases, for tests/e2e/test_offboarding_browser.py: run with the venv's python in the server's
environment; prints one JSON line, last. Every name here is invented.

    offboarding_seed.py TOKEN
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PASSWORD = "estuary kelp 9 lantern shore"


def seed(token: str) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend.accounts import services as account_services
    from mend.accounts.models import Membership
    from mend.cases import services as case_services

    program = account_services.program_create(
        actor=None, name=f"Harbourside Restorative {token}", slug=f"harbourside-{token}", jurisdictions=["NZ"]
    )

    def staff(role: str, name: str):
        return account_services.staff_create(
            actor=None,
            email=f"{name.split()[0].lower()}.{token}@harbourside.test",
            display_name=name,
            password=PASSWORD,
            program=program,
            role=role,
        )

    admin = staff("admin", "Ada Harbour")
    colleague = staff("facilitator", "Gil Harbour-Longname Facilitator")
    staff("coordinator", "Cole Harbour")
    case_services.case_create(
        actor=admin,
        program=program,
        harm_category="fraud",
        jurisdictions=["NZ"],
        referral_source="self",
        facilitator=colleague,
    )
    device = TOTPDevice.objects.create(user=admin, name="seeded", confirmed=True)
    session = SessionStore()
    session[SESSION_KEY] = str(admin.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return {
        "session_key": session.session_key,
        "program_id": program.pk,
        "membership_id": Membership.objects.get(user=colleague).pk,
        "colleague": colleague.display_name,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    sys.stdout.write("\n" + json.dumps(seed(sys.argv[1])) + "\n")
