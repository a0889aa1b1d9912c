"""Seeds the browser journeys of many people in one case (tests/e2e/test_many_people.py) with the demo
program itself (mend.demo), its data-breach case with all five people harmed still taking part, so that the
journey has one of them stop in her own browser. The demo's two facilitators get an authenticator the tests
hold. Loaded once per server: a second run prints what the first made.

Run with the venv's python in the server's environment, as tests/e2e/conftest.py runs seed.py; prints one
JSON line, last. Every name here is invented (the demo's).
"""

import json
import os
import secrets
import sys


def seed() -> dict:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from mend import demo
    from mend.accounts.models import User
    from mend.cases.models import Case

    demo.load(one_stopped=False)
    keys = {}
    for email in ("facilitator@demo.mend.test", "facilitator2@demo.mend.test"):
        user = User.objects.get(username=email)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name="authenticator app", key=secrets.token_hex(20), confirmed=True
            )
        keys[email] = device.key
    breach = Case.objects.get(program__slug=demo.DEMO_SLUG, harm_category="data_breach")
    school = Case.objects.get(program__slug=demo.DEMO_SLUG, harm_category="unauthorised_access")
    return {
        "breach_reference": breach.reference,
        "school_reference": school.reference,
        "totp_keys": keys,
        "password": demo.DEMO_PASSWORD,
        "phrase": demo.DEMO_PHRASE,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mend.settings")
    import django

    django.setup()
    sys.stdout.write("\n" + json.dumps(seed()) + "\n")
