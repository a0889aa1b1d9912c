"""A received file is saved only as a kind the composer offers, under a plain name: a member of the
conversation whose page was altered cannot have an SVG (or a page) opened at this site's address, nor hide
a file's kind behind its name."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import test_relay_journey
from tests.e2e.navigators import LIVE_SECONDS, Facilitator, HarmedParty, as_upload, png_with

pytestmark = pytest.mark.e2e

dialogue_case = test_relay_journey.dialogue_case  # a fresh case of its own, as the relay journeys have

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>parent.stolen = document.cookie</script></svg>'

# The sender's page, altered: the composer's check sees an allowed kind, the message then names the file's
# real kind (what a page written by the sender could put in the message anyway).
ALTERED_SENDER = """
const seen = new WeakMap();
const realType = Object.getOwnPropertyDescriptor(Blob.prototype, "type").get;
Object.defineProperty(File.prototype, "type", {
  get() {
    const times = (seen.get(this) || 0) + 1;
    seen.set(this, times);
    return times === 1 ? "image/png" : realType.call(this);
  },
});
"""


def test_it_saves_a_received_file_of_another_kind_as_bytes_under_a_safe_name(new_context, dialogue_case):
    # Given the person harmed, whose page was altered, and their facilitator
    sender_context = new_context()
    sender_context.add_init_script(ALTERED_SENDER)
    harmed = HarmedParty(sender_context.new_page(), dialogue_case)
    facilitator = Facilitator(new_context().new_page(), dialogue_case)
    harmed.sign_in()
    facilitator.sign_in()
    picture = png_with("a real picture")

    # When the person harmed sends an SVG with a script, and a picture whose name hides its kind
    harmed.open_conversation_with_facilitator()
    text = "Two files for you."
    harmed.write(
        text,
        files=[
            as_upload("invoice.svg", "image/svg+xml", SVG),
            as_upload("photo\u202egnp.exe", "image/png", picture),
        ],
    )
    expect(harmed.status_of(text)).not_to_have_text("Sending…", timeout=LIVE_SECONDS)

    # Then the facilitator is offered them under plain names with their kind's ending
    facilitator.open_conversation_with(dialogue_case.harmed_pseudonym)
    message = facilitator.sees_message(text)
    buttons = message.locator("[data-file]")
    expect(buttons).to_have_count(2)
    assert [b.split(" (")[0] for b in buttons.all_inner_texts()] == ["invoice.bin", "photognp.png"]

    # And the SVG is saved as bytes, never as an image this site would show, and unchanged
    with facilitator.page.expect_download() as download:
        buttons.nth(0).click()
    assert download.value.suggested_filename == "invoice.bin"
    assert Path(download.value.path()).read_bytes() == SVG
    with facilitator.page.expect_download() as download:
        buttons.nth(1).click()
    assert download.value.suggested_filename == "photognp.png"
    assert Path(download.value.path()).read_bytes() == picture
