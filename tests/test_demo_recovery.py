"""The demo's recovery code: `mend demo` (run by `make run`) prints one, and it opens the recovery copy of
every demo account's keys on the recovery page, as a code shown after joining would."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from mend import demo
from mend.accounts.keys import current_bundle
from mend.accounts.models import User
from mend.core import envelope as env
from tests.accounts.helpers import JSON, derived, sign_in

RECOVER = "/account/recover/"
NEW_PHRASE = "amber kelp shore drift ridge willow"


def recover(client: Client, body: dict):
    return client.post(RECOVER, json.dumps(body), content_type="application/json", headers=JSON)


def test_it_prints_the_demo_recovery_code_with_the_sign_ins(db):
    out = StringIO()
    call_command("demo", stdout=out)
    assert demo.DEMO_RECOVERY_CODE in out.getvalue()
    assert env.recovery_code_bytes(demo.DEMO_RECOVERY_CODE)  # a code of the form the page reads


@pytest.mark.parametrize("identifier", ["wren-demo", "totara-demo", "facilitator@demo.mend.test"])
def test_it_opens_each_demo_accounts_keys_with_the_printed_recovery_code(db, identifier):
    demo.load()
    bundle = current_bundle(User.objects.get(username=identifier))
    recovery_auth, recovery_wrap = env.derive_recovery(demo.DEMO_RECOVERY_CODE)

    # The recovery page's first step gives the recovery copy of the keys for the printed code
    found = recover(Client(), {"identifier": identifier, "recovery_auth": recovery_auth})
    assert found.status_code == 200, found.content
    assert env.unwrap_keys(recovery_wrap, found.json()["recovery_wrapped"]).key_id == bundle.key_id


def test_it_lets_a_demo_participant_set_a_new_phrase_with_the_printed_recovery_code(db):
    demo.load()
    recovery_auth, recovery_wrap = env.derive_recovery(demo.DEMO_RECOVERY_CODE)
    found = recover(Client(), {"identifier": "kestrel-demo", "recovery_auth": recovery_auth}).json()
    new_auth, new_wrap = derived("kestrel-demo", NEW_PHRASE)
    wrapped = env.wrap_keys(new_wrap, env.unwrap_keys(recovery_wrap, found["recovery_wrapped"]))
    body = {"step": "finish", "identifier": "kestrel-demo", "recovery_auth": recovery_auth}
    finished = recover(Client(), {**body, "auth_key": new_auth, "wrapped": wrapped})
    assert finished.status_code == 200, finished.content

    # The new phrase signs in and opens the same keys; the printed phrase no longer does
    keys = sign_in(Client(), "kestrel-demo", NEW_PHRASE, json=True).json()["keys"]
    assert env.unwrap_keys(new_wrap, keys["wrapped"]).key_id == keys["key_id"]
    assert sign_in(Client(), "kestrel-demo", demo.DEMO_PHRASE, json=True).status_code != 200
