"""The agreement journey in headless Chromium: the facilitator drafts; every party signs in their own
browser (Ed25519, checked by the server); the person responsible sends evidence sealed on their device;
the facilitator opens it and checks the item; the person harmed who chose to hear after each checked item
gets the update, and the one who chose never gets nothing."""

import secrets
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.navigators import LIVE_SECONDS, DialogueCase, Facilitator, Party, loads_last_line

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("dialogue_seed.py")
ITEM = "Finish the six-week course on consent and respect."
APOLOGY = "Write a letter of apology, passed on through the facilitator."
EVIDENCE = "I finished the course last Thursday. The certificate number is CR-2291."
NEWS = "There is news about the agreement: 1 of 2 items are done and checked."


@pytest.fixture
def seeded(mend_server, server_database_url, tmp_path_factory) -> tuple[DialogueCase, dict]:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    output = servers.run(
        [sys.executable, str(SEED), secrets.token_hex(3), "--agreement"], env, "Seeding an agreement case"
    )
    raw = loads_last_line(output)
    return DialogueCase.from_seed(raw), raw


def sign(page: Page, reference: str, typed_name: str) -> None:
    page.goto(f"/cases/{reference}/agreement/")
    page.get_by_test_id("read-to-sign").click()
    expect(page.get_by_test_id("item-description").first).to_have_text(ITEM)
    page.get_by_label("Type your name to sign").fill(typed_name)
    page.get_by_test_id("sign").click()
    expect(page.get_by_text("Thank you. Your signature is recorded.")).to_be_visible(timeout=LIVE_SECONDS)


def case_page_text(page: Page, reference: str) -> str:
    page.goto(f"/cases/{reference}/")
    return page.locator("main").inner_text()


def test_draft_sign_evidence_verify_and_only_the_chosen_update(new_context, seeded):
    case, raw = seeded
    reference = case.case_reference
    facilitator = Facilitator(new_context().new_page(), case)
    sorrel = Party(new_context().new_page(), case, case.harmed_sign_in)
    tui = Party(new_context().new_page(), case, raw["second_harmed_sign_in"])
    brook = Party(new_context().new_page(), case, case.responsible_sign_in)
    for person in (facilitator, sorrel, tui, brook):
        person.sign_in()

    # Given a facilitator who drafts the agreement: shared terms and one item for the person responsible
    page = facilitator.page
    page.goto(f"/cases/{reference}/")
    page.get_by_test_id("agreement-link").click()
    page.get_by_test_id("draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agreement, version 1")
    page.get_by_label("Shared terms").fill("We agree to repair what can be repaired, at Sorrel's pace.")
    page.get_by_role("button", name="Save the terms").click()
    page.get_by_label("Kind of item").select_option(label="Learning")
    page.get_by_label("What will be done").fill(ITEM)
    page.get_by_label("Who does it").select_option(label="Brook (person responsible)")
    page.get_by_label("Due by").fill((timezone.localdate() + timedelta(days=45)).isoformat())
    page.get_by_label("How it will be checked").fill("The facilitator sees the certificate.")
    page.get_by_label("Course or programme (learning, counselling)").fill("Consent and respect, 6 weeks")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_test_id("item-description")).to_have_text(ITEM)
    page.get_by_label("Kind of item").select_option(label="Apology")
    page.get_by_label("What will be done").fill(APOLOGY)
    page.get_by_label("Who does it").select_option(label="Brook (person responsible)")
    page.get_by_label("Due by").fill((timezone.localdate() + timedelta(days=60)).isoformat())
    page.get_by_label("How it will be checked").fill("The facilitator reads the letter first.")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_test_id("item-description")).to_have_text([ITEM, APOLOGY])
    page.get_by_test_id("open-for-signing").click()
    expect(page.get_by_test_id("version-state")).to_have_text("Waiting for signatures")

    # When every party signs in their own browser
    sign(sorrel.page, reference, "Sorrel")
    sign(tui.page, reference, "Tui")
    sign(brook.page, reference, "Brook")

    # Then the version is in force, and its signatures check out
    brook_page = brook.page
    expect(brook_page.get_by_test_id("version-state")).to_contain_text("Signed by everyone")
    expect(brook_page.get_by_test_id("check")).to_have_attribute("data-intact", "1")

    # When the person responsible marks the item done, with evidence sealed on their device
    brook_page.goto(f"/cases/{reference}/agreement/")
    brook_page.get_by_test_id("board").get_by_role("link").first.click()
    brook_page.get_by_label("What you did").fill(EVIDENCE)
    with brook_page.expect_request(lambda r: r.url.endswith("/evidence/") and r.method == "POST") as sent:
        brook_page.get_by_test_id("submit-evidence").click()
    assert EVIDENCE not in (sent.value.post_data or ""), "the server receives only the sealed envelope"
    expect(brook_page.get_by_test_id("item-state")).to_have_attribute(
        "data-state", "submitted", timeout=LIVE_SECONDS
    )
    expect(brook_page.get_by_test_id("evidence-list")).to_contain_text(EVIDENCE, timeout=LIVE_SECONDS)

    # And the facilitator opens it on their device and checks the item
    item_url = brook_page.url
    page.goto(item_url)
    expect(page.get_by_test_id("evidence-list")).to_contain_text(EVIDENCE, timeout=LIVE_SECONDS)
    page.get_by_test_id("verify").click()
    expect(page.get_by_test_id("item-state")).to_have_attribute("data-state", "verified")

    # Then Sorrel, who chose to hear after each checked item, gets the update
    sorrel_page = sorrel.page
    for _attempt in range(20):
        if NEWS in case_page_text(sorrel_page, reference):
            break
        sorrel_page.wait_for_timeout(500)
    assert NEWS in case_page_text(sorrel_page, reference)
    sorrel_page.goto(f"/cases/{reference}/agreement/")
    expect(sorrel_page.get_by_test_id("board")).to_contain_text("Done and checked")

    # And Tui, who chose never, gets nothing, on her case page or her agreement page
    assert NEWS not in case_page_text(tui.page, reference)
    tui.page.goto(f"/cases/{reference}/agreement/")
    expect(tui.page.get_by_test_id("board-hidden")).to_be_visible()
    expect(tui.page.get_by_test_id("board")).to_have_count(0)
    # Nor does the person responsible hear anything of the people harmed's choices
    assert NEWS not in case_page_text(brook_page, reference)
