"""Circle minutes in headless Chromium: the keeper writes them, they are sealed on the device (envelope v1)
and the server stores only the envelope and the concern flag; opened again, the page decrypts and checks
them with the keeper's own keys."""

import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import servers
from tests.e2e.navigators import LIVE_SECONDS, DialogueCase, Facilitator, loads_last_line

pytestmark = pytest.mark.e2e

SEED = Path(__file__).resolve().parents[1] / "circles" / "circle_seed.py"
MINUTES = "Kauri spoke about the new job. Everyone kept to the plan this week."


@pytest.fixture
def seeded(mend_server, server_database_url, tmp_path_factory) -> tuple[DialogueCase, dict]:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    raw = loads_last_line(
        servers.run([sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding a circle")
    )
    return DialogueCase.from_seed(raw), raw


def test_the_keeper_seals_minutes_with_a_concern_and_opens_them_again(new_context, seeded):
    case, raw = seeded
    keeper = Facilitator(new_context().new_page(), case)
    # Given the circle's keeper, signed in (their keys are made and unlocked in this browser)
    keeper.sign_in()
    page = keeper.page
    url = f"/circles/{raw['circle_id']}/meetings/{raw['session_id']}/minutes/"
    page.goto(f"/circles/{raw['circle_id']}/")
    expect(page.get_by_test_id("past")).to_contain_text("write the minutes")

    # When they write the minutes of the meeting and say they raise a concern
    page.goto(url)
    expect(page.get_by_test_id("minutes-state")).to_contain_text("Not sent yet")
    page.get_by_label("What happened at the meeting").fill(MINUTES)
    page.get_by_label("These minutes raise a concern: tell the coordinators now").check()
    submit = page.get_by_test_id("submit-minutes")
    expect(submit).to_be_enabled()
    submit.click()

    # Then the page shows them sent, with the concern, and opens them on this device
    expect(page.get_by_test_id("minutes-state")).to_contain_text(
        "They raise a concern.", timeout=LIVE_SECONDS
    )
    expect(page.get_by_test_id("minutes-text")).to_have_text(MINUTES, timeout=LIVE_SECONDS)
    # And the server holds only ciphertext: the page as served carries the envelope, never the words
    served = page.request.get(url).text()
    assert 'id="minutes-frame"' in served
    assert MINUTES not in served
    page.goto(f"/circles/{raw['circle_id']}/")
    expect(page.locator(f"[data-session='{raw['session_id']}']")).to_have_attribute("data-minutes", "concern")
