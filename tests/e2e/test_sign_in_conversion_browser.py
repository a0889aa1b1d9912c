"""The move of older accounts, in the browser: a staff member and a participant whose sign-in key and
wrapped keys date from before this install's salt (and whose keys and hash were stored in the clear) sign in
as usual; the page derives the older key too and sends it once, wraps their keys again under the new key
(the staff member's only after the second step), and both still read the messages they had."""

import json
import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import servers
from tests.e2e.navigators import DialogueCase, Facilitator, HarmedParty, loads_last_line

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("dialogue_seed.py")
OLDER = Path(__file__).with_name("older_accounts.py")


@pytest.fixture
def server_env(mend_server, server_database_url, tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    return servers.server_env(var_dirs[0], server_database_url)


def _accounts(env: dict[str, str], case: DialogueCase) -> dict:
    names = [case.facilitator_email, case.harmed_sign_in]
    return loads_last_line(
        servers.run([sys.executable, str(OLDER), "state", *names], env, "Reading the accounts")
    )


def test_it_moves_older_accounts_to_this_installs_salt_and_they_still_read_their_messages(
    new_context, server_env
):
    case = DialogueCase.from_seed(
        loads_last_line(
            servers.run([sys.executable, str(SEED), secrets.token_hex(3)], server_env, "Seeding a case")
        )
    )
    # Given a participant who wrote to their facilitator, and the facilitator who read it
    facilitator = Facilitator(new_context().new_page(), case)
    harmed = HarmedParty(new_context().new_page(), case)
    words = "Thank you for listening yesterday. I would like to go on."
    facilitator.sign_in()
    harmed.sign_in()
    harmed.open_conversation_with_facilitator()
    harmed.write(words)
    facilitator.open_conversation_with(case.harmed_pseudonym)
    facilitator.sees_message(words)
    before = _accounts(server_env, case)

    # Given a staff member and a participant whose accounts are as an older Mend left them
    secrets_of = {case.facilitator_email: case.facilitator_password, case.harmed_sign_in: case.phrase}
    servers.run(
        [sys.executable, str(OLDER), "downgrade", json.dumps(secrets_of)], server_env, "Making older accounts"
    )
    older = _accounts(server_env, case)
    assert {(a["auth_scheme"], a["wrapped_salt"], a["sealed"][0]) for a in older.values()} == {
        ("derived", 1, False)
    }

    # When each signs in again, in a browser that has never held their keys
    facilitator = Facilitator(new_context().new_page(), case)
    harmed = HarmedParty(new_context().new_page(), case)
    facilitator.sign_in()
    harmed.sign_in()

    # Then both accounts use this install's salt, their keys are the same, wrapped again and sealed at rest
    after = _accounts(server_env, case)
    for name, account in after.items():
        assert account == {
            "auth_scheme": "install",
            "hash": "sealed",
            "wrapped_salt": 2,
            "key_id": before[name]["key_id"],
            "sealed": [True, True],
        }, name

    # And both still read what was written before
    harmed.open_conversation_with_facilitator()
    harmed.sees_message(words)
    facilitator.open_conversation_with(case.harmed_pseudonym)
    facilitator.sees_message(words)
    expect(facilitator.errors()).to_be_hidden()
