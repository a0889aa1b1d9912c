"""While the browser works for a while (keys made or opened, files locked and sent), a screen reader hears it:
the form is aria-busy, a polite status line that was in the page from the start says what is happening, and
both are cleared when the work is done. The sign-in and recovery pages' script errors name their fields, as
the server-rendered forms do: each field marked invalid and tied to its error, a summary that takes focus.

What the page says and marks is recorded as it happens (a MutationObserver reporting to the test), so that
nothing here depends on how long the work takes."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e import test_relay_journey
from tests.e2e.navigators import (
    CRYPTO_TIMEOUT_MS,
    SIGN_IN_PATH,
    HarmedParty,
    Invitee,
    Party,
    as_upload,
    png_with,
)

pytestmark = pytest.mark.e2e

dialogue_case = test_relay_journey.dialogue_case  # a case of its own, open for messages

# Every change of aria-busy, and of the text of every status line, reported to the test in order.
RECORDER = """
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.type === "attributes") {
      const on = Object.keys(change.target.dataset).join(" ") || change.target.tagName.toLowerCase();
      window.__busyRecord({ kind: "busy", on, value: change.target.getAttribute("aria-busy") });
      continue;
    }
    const node = change.target.nodeType === Node.TEXT_NODE ? change.target.parentElement : change.target;
    const line = node?.closest?.("[role=status]");
    if (line) window.__busyRecord({ kind: "status", on: line.id || "status", value: line.textContent });
  }
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true,
                        attributeFilter: ["aria-busy"] });
"""

MAKING = "Making your keys. This can take a few seconds."
CHECKING = "Checking your details. This can take a few seconds."
OPENING = "Opening your keys…"


def recording(context: BrowserContext) -> list[dict]:
    said: list[dict] = []

    def note(entry: dict) -> None:
        said.append(entry)

    context.expose_function("__busyRecord", note)
    context.add_init_script(RECORDER)
    return said


def at(said: list[dict], kind: str, on: str, value) -> int:
    """Where in the record this change first happened (an AssertionError naming the record if never)."""
    for i, entry in enumerate(said):
        if entry["kind"] == kind and on in entry["on"].split() + [entry["on"]] and entry["value"] == value:
            return i
    raise AssertionError(f"no {kind} {value!r} on {on!r} in {said}")


def an_empty_status_line(page: Page, line_id: str) -> None:
    """The status line is in the page before any words are put in it, so that a screen reader reads them."""
    line = page.locator(f"#{line_id}")
    expect(line).to_be_attached()
    expect(line).to_have_attribute("role", "status")
    expect(line).to_have_text("")


def summary_has_focus(page: Page):
    summary = page.locator(".error-summary:focus")
    expect(summary).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
    return summary


def error_tied_to(page: Page, label: str) -> str:
    """The words the field named `label` is described by: it is marked invalid and points at its error."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby") or ""
    assert described, f"{label} is not tied to its error"
    return " ".join(page.locator(f"#{i}").inner_text() for i in described.split())


def test_it_says_while_keys_are_made_and_opened(new_context, invitation_link):
    # Given a person opening their invitation, whose page is watched for what it says
    context = new_context()
    said = recording(context)
    willow = Invitee(context.new_page())
    willow.open_link(invitation_link)
    an_empty_status_line(willow.page, "join-status")

    # When they join: their keys are made on this device
    willow.choose_pseudonym("Willow")

    # Then the form was busy and the status line said so, and both were cleared when the keys were made
    busy = at(said, "busy", "join", "true")
    making = at(said, "status", "join-status", MAKING)
    freed = at(said, "busy", "join", None)
    cleared = at(said, "status", "join-status", "")
    assert busy <= making < freed and making < cleared
    expect(willow.page.locator("#join-status")).to_have_text("")

    # When they sign out and in again: their keys are opened on this device
    name, phrase = willow.sign_in_details()
    willow.go_to_my_case()
    willow.sign_out()
    said.clear()
    an_empty_status_line(willow.page, "sign-in-status")
    willow.sign_in(name, phrase)

    # Then the sign-in form was busy while the status line said what was happening, in that order
    busy = at(said, "busy", "signIn", "true")
    checking = at(said, "status", "sign-in-status", CHECKING)
    opening = at(said, "status", "sign-in-status", OPENING)
    assert busy <= checking < opening


def test_it_names_the_file_as_it_goes_up_to_100_percent(new_context, invitation_link, mend_server):
    # Given a person who joined and opened their conversation with their facilitator
    context = new_context()
    said = recording(context)
    hazel = Invitee(context.new_page())
    hazel.open_link(invitation_link)
    hazel.choose_pseudonym("Hazel")
    hazel.go_to_my_case()
    party = Party(hazel.page)
    party.open_messages(mend_server.case_reference)
    party.open_conversation(Party.WITH_FACILITATOR)
    said.clear()

    # When a picture is locked and sent from a form of the page, with the files' meter of upload.js
    sent = party.page.evaluate(UPLOAD, list(png_with("a picture for the meter" * 4000)))

    # Then it was sent, and the status line named the file while it was locked and as it went, to 100%
    assert sent["entries"] == ["photo.png"]
    texts = [e["value"] for e in said if e["kind"] == "status" and e["on"] == "status"]
    assert "Locking photo.png…" in texts
    assert "Uploading photo.png: 100%" in texts
    # And it spoke at the quarters only, never at every step
    spoken = [t for t in texts if t.startswith("Uploading photo.png: ")]
    assert set(spoken) <= {f"Uploading photo.png: {n}%" for n in (0, 25, 50, 75, 100)}
    # And the form was busy, its button held, while the file went; then free again, the bar put away
    assert at(said, "busy", "meterTest", "true") < at(said, "busy", "meterTest", None)
    assert sent["held"] is True
    assert sent["after"] == {"busy": None, "held": False, "bar": True, "status": ""}
    # And a file that could not be sent is named in what the page says
    assert sent["refused"] == "photo.png could not be sent. Please try again."


# Sends a file through upload.js from a form put on the conversation page (the composer's own wiring is in
# conversation.js), and answers what the page showed; then once more to an address that refuses it.
UPLOAD = """async (bytes) => {
  const here = document.querySelector("script[src*='conversation.js']").src;
  const { uploadEncrypted, uploadMeter } = await import(new URL("upload.js", here));
  const root = document.querySelector("[data-upload-url]");
  const form = document.createElement("form");
  form.dataset.meterTest = "";
  form.append(document.createElement("button"));
  root.append(form);
  const meter = uploadMeter(form);
  const button = form.querySelector("button");
  let held = false;
  new MutationObserver(() => { held = held || button.disabled; }).observe(button, { attributes: true });
  const file = new File([new Uint8Array(bytes)], "photo.png", { type: "image/png" });
  const options = { conversation: root.dataset.conversation, accepts: () => true, tooBig: "file_too_big",
                    notAccepted: "file_not_message_type", meter };
  const entries = await uploadEncrypted([file], { ...options, url: root.dataset.uploadUrl });
  const status = form.nextElementSibling;
  const after = { busy: form.getAttribute("aria-busy"), held: button.disabled,
                  bar: document.querySelector("[data-upload-progress]").hidden, status: status.textContent };
  const refused = await uploadEncrypted([file], { ...options, url: "/nowhere/" }).catch((e) => e.message);
  return { entries: entries.map((e) => e.name), held, after, refused };
}"""


def test_the_composer_names_the_file_it_sends(new_context, dialogue_case):
    # Given the person harmed in their conversation with their facilitator, their page watched
    context = new_context()
    said = recording(context)
    harmed = HarmedParty(context.new_page(), dialogue_case)
    harmed.sign_in()
    harmed.open_conversation_with_facilitator()
    an_empty_status_line(harmed.page, "composer-status")
    said.clear()

    # When they send a picture with a message from the composer
    picture = as_upload("garden.png", "image/png", png_with("garden" * 4000))
    harmed.write("A picture of the garden.", files=[picture])

    # Then the composer's status line named the file as it was locked and as it went, up to 100%
    composer = [e["value"] for e in said if e["kind"] == "status" and e["on"] == "composer-status"]
    assert "Locking garden.png…" in composer
    assert "Uploading garden.png: 100%" in composer
    # And the composer was busy meanwhile; afterwards it is free, its status line empty and Send given back
    assert at(said, "busy", "composer", "true") < at(said, "busy", "composer", None)
    expect(harmed.page.locator("form[data-composer]")).not_to_have_attribute("aria-busy", "true")
    expect(harmed.page.locator("#composer-status")).to_have_text("")
    expect(harmed.page.get_by_role("button", name="Send", exact=True)).to_be_enabled()


def test_it_names_the_field_of_an_incomplete_sign_in(new_context):
    # Given the sign-in page
    page = new_context().new_page()
    page.goto(SIGN_IN_PATH)
    button = page.get_by_role("button", name="Sign in", exact=True)
    expect(button).to_be_enabled()

    # When someone sends their name without their phrase
    page.get_by_label("Email or sign-in name").fill("nobody-e2e")
    button.click()

    # Then the summary takes focus and names the field, which is marked invalid and tied to its error
    text = summary_has_focus(page).inner_text()
    assert "There is 1 thing to fix" in text
    assert "Password or sign-in phrase: Type your password or sign-in phrase." in text
    assert error_tied_to(page, "Password or sign-in phrase") == "Type your password or sign-in phrase."
    expect(page.get_by_label("Email or sign-in name")).not_to_have_attribute("aria-invalid", "true")
    # And the summary's link leads into the field
    page.locator(".error-summary a").click()
    expect(page.get_by_label("Password or sign-in phrase")).to_be_focused()

    # When they send a phrase that does not match
    page.get_by_label("Password or sign-in phrase").fill("not the right phrase at all")
    button.click()

    # Then the summary says so for the form as a whole, and no field is marked any more
    expect(page.locator(".error-summary:focus")).to_contain_text("did not match", timeout=CRYPTO_TIMEOUT_MS)
    expect(page.locator("[aria-invalid]")).to_have_count(0)
    # And the form is free again, its status line empty
    expect(page.locator("form[data-sign-in]")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#sign-in-status")).to_have_text("")
    expect(button).to_be_enabled()


def test_it_names_the_fields_of_a_recovery_that_cannot_start(new_context):
    # Given the recovery page
    page = new_context().new_page()
    page.goto("/account/recover/")
    button = page.get_by_role("button", name="Set it up again")
    expect(button).to_be_enabled()
    an_empty_status_line(page, "recover-status")

    # When someone sends nothing
    button.click()

    # Then both fields are named in the summary, each marked invalid and tied to its error
    text = summary_has_focus(page).inner_text()
    assert "There are 2 things to fix" in text
    assert "Email or sign-in name: Type your email or sign-in name." in text
    assert "Recovery code: Type your recovery code." in text
    assert error_tied_to(page, "Recovery code") == "Type your recovery code."

    # When they send a code that is not a recovery code's shape
    page.get_by_label("Email or sign-in name").fill("nobody-e2e")
    page.get_by_label("Recovery code").fill("not a code")
    button.click()

    # Then the code's field says what a recovery code looks like, and only that field is marked
    expect(page.locator(".error-summary:focus")).to_contain_text(
        "Recovery code: A recovery code has 32 letters", timeout=CRYPTO_TIMEOUT_MS
    )
    assert error_tied_to(page, "Recovery code").startswith("A recovery code has 32 letters")
    expect(page.locator("[aria-invalid]")).to_have_count(1)
    expect(page.locator("form[data-recover]")).not_to_have_attribute("aria-busy", "true")
