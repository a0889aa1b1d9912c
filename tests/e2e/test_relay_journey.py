"""Browser journeys through the encrypted conversations: a full exchange relayed by the facilitator, receipts,
an encrypted attachment, and the outbox that keeps a message through a reload.

Each test seeds a case of its own (tests/e2e/dialogue_seed.py) into the e2e server's database, with its own
facilitator, so that each signs in once with a fresh authenticator code and unlocks keys in its browser.
"""

import json
import re
import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import servers
from tests.e2e.navigators import (
    LIVE_SECONDS,
    DialogueCase,
    Facilitator,
    HarmedParty,
    ResponsibleParty,
    as_upload,
    loads_last_line,
    pdf_with,
    png_with,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("dialogue_seed.py")


def seed_case(env: dict[str, str]) -> DialogueCase:
    output = servers.run(
        [sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding a conversation case"
    )
    return DialogueCase.from_seed(loads_last_line(output))


@pytest.fixture
def dialogue_case(mend_server, server_database_url, tmp_path_factory) -> DialogueCase:
    """A fresh case at the encounter stage, in the database of the server the journeys run against."""
    # The e2e server keeps its var dir (its SQLite file and secret key) under pytest's base temp directory.
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    return seed_case(servers.server_env(var_dirs[0], server_database_url))


@pytest.fixture
def people(new_context, dialogue_case):
    """The facilitator and both parties, each signed in in a browser of their own."""
    facilitator = Facilitator(new_context().new_page(), dialogue_case)
    harmed = HarmedParty(new_context().new_page(), dialogue_case)
    responsible = ResponsibleParty(new_context().new_page(), dialogue_case)
    facilitator.sign_in()
    harmed.sign_in()
    responsible.sign_in()
    return facilitator, harmed, responsible


def test_it_relays_a_message_from_the_responsible_party_to_the_harmed_party(people, dialogue_case):
    facilitator, harmed, responsible = people
    first_draft = "I'm sorry if what I did upset you."
    note = "Could you say what you did, without the if? Take your time."
    revision = "I'm sorry that I shared your photos without asking. It was wrong and it was my choice."

    # Given a facilitator whose first sign-in made their keys and showed a recovery code, once
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){7}", facilitator.recovery_code), facilitator.recovery_code

    # And a person responsible in their exchange through the facilitator
    responsible.open_case_messages()
    assert responsible.conversation_titles() == [
        "You and your facilitator",
        "Messages through your facilitator",
    ]
    responsible.open_my_exchange()

    # When they start writing a conditional apology
    responsible.start_a_draft("I'm sorry if")

    # Then the language guide points it out gently, on their page only
    expect(responsible.guide_notes()).to_contain_text("Only you can see these notes")
    expect(responsible.guide_notes()).to_contain_text("sorry if")

    # When they send it, agreeing it may be passed on
    responsible.write_for_the_other_side(first_draft, may_pass_on=True)

    # Then it waits for the facilitator, marked as meant for the other side
    expect(responsible.status_of(first_draft)).to_have_text("Waiting for your facilitator to review")
    expect(responsible.marker_of(first_draft)).to_have_text("For the other side")

    # And the person harmed, already reading their own exchange, does not get it
    harmed.open_my_exchange()
    expect(harmed.page.locator("[data-guide-panel]")).to_have_count(0)

    # And the facilitator finds it in the relay queue, and can read it
    assert [row.split(",")[0] for row in facilitator.relay_queue()] == ["From Brook"]
    facilitator.open_exchange_of("Brook")
    facilitator.sees_message(first_draft)

    # And the safety code the facilitator sees with the person responsible is the one on their screen
    assert facilitator.safety_code_of("Brook") == responsible.safety_code_of(dialogue_case.facilitator_name)

    # When the facilitator returns it with a note
    facilitator.return_with_note(first_draft, note)

    # Then the person responsible sees the note live, and their message marked as returned
    responsible.sees_message(note)
    expect(responsible.marker_of(note)).to_have_text("Returned with a note")
    expect(responsible.status_of(first_draft)).to_have_text("Returned to you with a note")

    # And nothing is left in the relay queue
    assert facilitator.relay_queue() == []

    # When the person responsible revises it, and the facilitator passes the revision on
    responsible.write_for_the_other_side(revision, may_pass_on=True)
    facilitator.open_exchange_of("Brook")
    facilitator.pass_on(revision, to_pseudonym="Sorrel")

    # Then the person harmed reads it live, marked as relayed by their facilitator, and only that version
    harmed.sees_message(revision)
    expect(harmed.marker_of(revision)).to_have_text("Relayed by your facilitator")
    expect(harmed.message(first_draft)).to_have_count(0)
    expect(harmed.message(note)).to_have_count(0)

    # And the person responsible sees that it was passed on
    expect(responsible.status_of(revision)).to_have_text("Passed on", timeout=LIVE_SECONDS)

    # And the person responsible has no way into a direct conversation: not listed, not at its address,
    # not over its websocket, not by posting to it
    facilitator.open_case_messages()
    assert "Direct conversation" in facilitator.conversation_titles()  # it exists, for the facilitator
    responsible.open_case_messages()
    assert "Direct conversation" not in responsible.conversation_titles()
    direct = dialogue_case.direct_conversation
    assert responsible.try_to_open_conversation(direct) == 404
    responsible.open_case_messages()
    websocket = responsible.try_to_connect_to(direct)
    assert websocket["frames"] == 0 and (not websocket["opened"] or websocket["code"] == 4404), websocket
    assert responsible.try_to_send_to(direct) == 404


def test_it_shows_receipts_until_the_harmed_party_turns_read_receipts_off(people, dialogue_case):
    facilitator, harmed, _responsible = people
    first, later = "How are you feeling about next week?", "I have booked the room for Thursday."

    # Given the person harmed and the facilitator in their own conversation
    harmed.open_conversation_with_facilitator()
    facilitator.open_conversation_with("Sorrel")

    # Then each sees the same safety code with the other
    assert facilitator.safety_code_of("Sorrel") == harmed.safety_code_of(dialogue_case.facilitator_name)

    # When the facilitator writes, while the person harmed has the conversation open
    facilitator.write(first)

    # Then the facilitator sees it delivered and read
    harmed.sees_message(first)
    expect(facilitator.status_of(first)).to_have_text("Read", timeout=LIVE_SECONDS)

    # When the person harmed turns read receipts off and the facilitator writes again
    harmed.turn_read_receipts_off()
    facilitator.write(later)
    harmed.sees_message(later)

    # Then the facilitator sees it sent, neither delivered nor read, now or after a reload
    expect(facilitator.status_of(later)).to_have_text("Sent", timeout=LIVE_SECONDS)
    facilitator.page.wait_for_timeout(1500)
    expect(facilitator.status_of(later)).to_have_text("Sent")
    facilitator.reload()
    facilitator.wait_until_connected()
    # Turning receipts off hides the earlier ones too: nothing about their reading is shown any more.
    expect(facilitator.status_of(first)).to_have_text("Sent")
    expect(facilitator.status_of(later)).to_have_text("Sent")


def test_it_lets_the_facilitator_open_a_partys_encrypted_attachments(people):
    facilitator, harmed, _responsible = people
    screenshot = png_with("a screenshot of the messages from the new account")
    report = pdf_with("Report to the platform, 3 March")

    # Given the person harmed in their conversation with the facilitator
    harmed.open_conversation_with_facilitator()

    # When they send a screenshot and a PDF with a message
    text = "Here is the screenshot and the report I sent."
    harmed.write(
        text,
        files=[
            as_upload("new-account.png", "image/png", screenshot),
            as_upload("report.pdf", "application/pdf", report),
        ],
    )
    expect(harmed.status_of(text)).not_to_have_text("Sending…", timeout=LIVE_SECONDS)

    # Then the facilitator opens both, byte for byte as they were sent
    facilitator.open_conversation_with("Sorrel")
    assert facilitator.open_file(text, "new-account.png") == screenshot
    assert facilitator.open_file(text, "report.pdf") == report


def test_it_keeps_a_message_in_the_outbox_through_a_reload_and_delivers_it_once(people):
    facilitator, harmed, _responsible = people
    text = "Writing this on the bus, the signal keeps dropping."
    blocked = {"now": True}

    def websocket(route):
        if blocked["now"]:
            route.close(code=1011, reason="blocked by the test")
        else:
            route.connect_to_server()

    # Given the facilitator reading, and the person harmed whose page cannot reach the server's websocket
    facilitator.open_conversation_with("Sorrel")
    harmed.page.route_web_socket("**/ws/conversations/**", websocket)
    harmed.open_case_messages()
    harmed.page.get_by_role("link", name=harmed.WITH_FACILITATOR, exact=True).click()
    expect(harmed.page.locator("[data-connection]")).to_contain_text("Not connected", timeout=LIVE_SECONDS)

    # When they send a message
    harmed.write(text)

    # Then it stays on their page as sending, and the facilitator does not have it
    expect(harmed.status_of(text)).to_have_text("Sending…")
    facilitator.page.wait_for_timeout(1000)
    expect(facilitator.message(text)).to_have_count(0)

    # When they reload the page, still without the websocket
    harmed.reload()

    # Then the message is still there, still sending
    expect(harmed.status_of(text)).to_have_text("Sending…")
    expect(harmed.page.locator("[data-connection]")).to_contain_text("Not connected", timeout=LIVE_SECONDS)

    # When the connection comes back
    blocked["now"] = False

    # Then it is delivered, exactly once, on both pages and after a reload
    expect(harmed.status_of(text)).to_have_text("Read", timeout=LIVE_SECONDS)
    facilitator.sees_message(text)
    harmed.reload()
    harmed.wait_until_connected()
    harmed.sees_message(text)
    facilitator.reload()
    facilitator.wait_until_connected()
    facilitator.sees_message(text)


def test_it_lets_a_party_download_their_information_with_their_messages_unlocked_in_their_browser(
    people, dialogue_case
):
    facilitator, harmed, _responsible = people
    from_facilitator = "Thank you for today. Nothing needs deciding this week."
    from_harmed = "Thank you. I would like to keep a copy of what we said."

    # Given the person harmed and their facilitator, who have written to each other
    facilitator.open_conversation_with("Sorrel")
    facilitator.write(from_facilitator)
    harmed.open_conversation_with_facilitator()
    harmed.sees_message(from_facilitator)
    harmed.write(from_harmed)
    expect(harmed.status_of(from_harmed)).not_to_have_text("Sending…", timeout=LIVE_SECONDS)

    # When the person harmed asks for their information from their case page
    page = harmed.page
    page.goto(f"/cases/{dialogue_case.case_reference}/")
    page.get_by_test_id("my-information-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download my information")
    with (
        page.expect_response(lambda r: r.url.endswith("/my-information/data/")) as served,
        page.expect_download() as downloading,
    ):
        page.get_by_test_id("download-my-information").click()
    download = downloading.value
    saved = json.loads(Path(download.path()).read_text(encoding="utf-8"))

    # Then the file holds both messages in words, with who wrote them, unlocked on their device
    assert download.suggested_filename == f"mend-my-information-{dialogue_case.case_reference}.json"
    expect(page.locator("[data-status]")).to_contain_text("Your file is ready, with 2 messages.")
    conversation = next(c for c in saved["conversations"] if c["title"] == "You and your facilitator")
    said = [(m["from"], m["text"]) for m in conversation["messages"]]
    assert said == [
        (dialogue_case.facilitator_name, from_facilitator),
        (dialogue_case.harmed_pseudonym, from_harmed),
    ]
    assert not any("problem" in m or "envelope" in m for m in conversation["messages"])
    assert saved["you"]["name_in_case"] == dialogue_case.harmed_pseudonym
    # And what the server sent held the messages only encrypted
    sent = served.value.text()
    assert from_facilitator not in sent and from_harmed not in sent
