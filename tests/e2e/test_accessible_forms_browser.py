"""What a screen reader is told about each form field, as Chromium's accessibility tree computes it: every
field on the sign-in, join, choices and staff case pages has a name, help text is its description, a group
of choices is named by its legend, and a failed send opens with an error summary that takes focus and leads
to the field (the join page's, made by its script, too)."""

import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.navigators import (
    CRYPTO_TIMEOUT_MS,
    SIGN_IN_PATH,
    DialogueCase,
    Facilitator,
    Party,
    loads_last_line,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("dialogue_seed.py")

# Every visible field and group, each tagged for the accessibility tree lookup, with what the page says about
# it: its help text (the .help of its own .field box), for the description a screen reader should read out.
_TAG_FIELDS = """() => {
  for (const details of document.querySelectorAll("details")) details.open = true;
  const shown = (node) => node.getClientRects().length > 0;
  const fields = [...document.querySelectorAll("input, select, textarea, fieldset")]
    .filter((node) => node.type !== "hidden" && shown(node));
  return fields.map((node, i) => {
    node.setAttribute("data-a11y-probe", String(i));
    const grouped = node.tagName !== "FIELDSET" && node.closest("fieldset");
    const help = grouped ? null : node.closest(".field")?.querySelector(".help");
    const tag = node.tagName.toLowerCase();
    return { probe: String(i), tag, name: node.name || node.id, help: help?.textContent.trim() ?? "" };
  });
}"""


def accessible_fields(page: Page) -> list[dict]:
    """Each visible field and fieldset, with the name and description Chromium's accessibility tree gives."""
    fields = page.evaluate(_TAG_FIELDS)
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        for field in fields:
            selector = f'[data-a11y-probe="{field["probe"]}"]'
            node_id = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            [ax] = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node_id, "fetchRelatives": False})[
                "nodes"
            ]
            field["role"] = ax.get("role", {}).get("value", "")
            field["accessible_name"] = " ".join(str(ax.get("name", {}).get("value", "")).split())
            field["description"] = " ".join(str(ax.get("description", {}).get("value", "")).split())
    finally:
        cdp.detach()
    return fields


def every_field_is_named_and_described(page: Page) -> list[dict]:
    fields = accessible_fields(page)
    assert fields, f"no fields on {page.url}"
    for field in fields:
        where = f"{field['tag']} {field['name']!r} on {page.url}"
        assert field["accessible_name"].strip(), f"{where} has no accessible name"
        if field["help"]:
            assert field["help"] in field["description"], f"{where}: help text is not its description"
    return fields


def focused_summary_text(page: Page) -> str:
    summary = page.locator(".error-summary:focus")
    expect(summary).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
    return summary.inner_text()


@pytest.fixture(scope="module")
def case(mend_server, server_database_url, tmp_path_factory) -> DialogueCase:
    """A case of its own (tests/e2e/dialogue_seed.py), with a facilitator whose authenticator the test holds:
    the seeded facilitator's one enrolment stays for the journey that checks it."""
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    output = servers.run([sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding a case")
    return DialogueCase.from_seed(loads_last_line(output))


def test_every_field_on_the_sign_in_page_has_a_name(new_context):
    page = new_context().new_page()
    page.goto(SIGN_IN_PATH)
    names = {f["name"]: f["accessible_name"] for f in every_field_is_named_and_described(page)}
    assert names["identifier"] == "Email or sign-in name"


def test_the_staff_case_page_and_the_join_page_name_every_field(new_context, case):
    # Given the facilitator on their case page
    rowan = Facilitator(new_context().new_page(), case)
    rowan.sign_in()
    page = rowan.page
    page.goto(f"/cases/{case.case_reference}/")

    # Then every field (those in closed sections too) has a name, and help text is read out with its field
    names = {f["name"]: f["accessible_name"] for f in every_field_is_named_and_described(page)}
    # And the invite and assign forms each name their own "role"
    assert names["invite-role"] == "Who are you inviting?"
    assert names.get("assign-role", "As") != "Who are you inviting?"

    # When they make an invitation link, and a person opens it
    page.get_by_label("Who are you inviting?").select_option("community_member")
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.get_by_test_id("invite-link").inner_text().strip()
    joining = new_context().new_page()
    joining.goto(link)

    # Then each field of the join page has a name, and its help text is what a screen reader reads after it
    fields = {f["name"]: f for f in every_field_is_named_and_described(joining)}
    assert fields["pseudonym"]["description"] == "Pick any name. It does not need to be your real name."
    assert "Your facilitator can arrange an interpreter." in fields["preferred_language"]["description"]

    # When they join with no name
    button = joining.get_by_role("button", name="Join")
    expect(button).to_be_enabled()
    button.click()

    # Then the summary takes focus, says how many things to fix and names the field
    text = focused_summary_text(joining)
    assert "There is 1 thing to fix" in text
    assert "The name others in the case will see: This field is required." in text
    # And the field is marked invalid, its error read out after its help text
    name_box = joining.get_by_label("The name others in the case will see")
    expect(name_box).to_have_attribute("aria-invalid", "true")
    fields = {f["name"]: f for f in accessible_fields(joining)}
    assert fields["pseudonym"]["description"] == (
        "Pick any name. It does not need to be your real name. This field is required."
    )
    # And the summary's link leads into the field
    joining.locator(".error-summary a").click()
    expect(name_box).to_be_focused()


def test_the_choices_page_names_each_group_by_its_question(new_context, case):
    # Given the person harmed, signed in, on their choices page
    sorrel = Party(new_context().new_page(), case, case.harmed_sign_in)
    sorrel.sign_in()
    page = sorrel.page
    page.goto(f"/cases/{case.case_reference}/choices/")

    # Then every field has a name, and each group of choices is named by its question
    fields = every_field_is_named_and_described(page)
    groups = [f["accessible_name"].rstrip(":") for f in fields if f["tag"] == "fieldset"]
    assert "How do you want to take part?" in groups
    assert "How do you want to hear about the other person's progress?" in groups
    assert all(f["role"] == "group" for f in fields if f["tag"] == "fieldset")

    # When they send a number of weeks that cannot be
    page.get_by_label("If a summary: every how many weeks?").fill("0")
    page.get_by_role("button", name="Save my choices").click()

    # Then the page opens on the focused summary, and its link leads to the field
    text = focused_summary_text(page)
    assert "There is 1 thing to fix" in text and "If a summary: every how many weeks?" in text
    weeks = page.get_by_label("If a summary: every how many weeks?")
    expect(weeks).to_have_attribute("aria-invalid", "true")
    page.locator(".error-summary a").click()
    expect(weeks).to_be_focused()
