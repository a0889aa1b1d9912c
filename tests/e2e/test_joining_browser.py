"""Joining in a hard moment: the sign-in name, phrase and recovery code shown once can be copied, printed on
a card of their own and checked (one word of the phrase, typed back) before going on, by keyboard alone; the
same after recovery, for the new phrase."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.navigators import CRYPTO_TIMEOUT_MS, Invitee

pytestmark = pytest.mark.e2e

ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth"]
CLIPBOARD = ["clipboard-read", "clipboard-write"]
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()
COPY_BUTTONS = ["Copy sign-in name", "Copy sign-in phrase", "Copy recovery code"]

# Every element of the page, outside the card, that a printer would still put on paper.
PRINTED_OUTSIDE_THE_CARD = """() => {
    const card = document.querySelector("[data-credentials-card]");
    const printed = (el) => {
        const style = getComputedStyle(el);
        return style.visibility === "visible" && style.display !== "none";
    };
    const all = [...document.body.querySelectorAll("*")];
    const outside = all.filter((el) => !card.contains(el) && printed(el));
    return {
        outside: outside.map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")),
        card: printed(card) ? card.innerText : "",
        buttons: [...card.querySelectorAll("button")].filter(printed).length,
    };
}"""

# The clipboard refuses, as some browsers do (no permission, an insecure page, a policy).
REFUSING_CLIPBOARD = """Object.defineProperty(navigator, "clipboard", {
    value: { writeText: () => Promise.reject(new DOMException("Denied.", "NotAllowedError")) },
});"""


def joined(context: BrowserContext, invitation_link: str, pseudonym: str) -> Invitee:
    invitee = Invitee(context.new_page())
    invitee.open_link(invitation_link)
    invitee.choose_pseudonym(pseudonym)
    return invitee


def with_clipboard(new_context, mend_server) -> BrowserContext:
    context = new_context()
    context.grant_permissions(CLIPBOARD, origin=mend_server.url)
    return context


def copy_status(page: Page):
    return page.locator("[data-copy-status]")


def no_axe_violation(page: Page) -> None:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    assert results.violations_count == 0, results.generate_report()


def asked_word(page: Page) -> int:
    """Which word of the phrase the check asks for, 1 to 6, as its label says it in words."""
    label = page.locator("form[data-check] label").inner_text().strip()
    number = int(page.locator("form[data-check] input").get_attribute("data-word"))
    assert label == f"Type the {ORDINALS[number - 1]} word of your phrase", label
    return number


def test_it_copies_each_sign_in_detail_and_says_so(new_context, mend_server, invitation_link):
    # Given a person who has just joined, in a browser that lets the page use the clipboard
    invitee = joined(with_clipboard(new_context, mend_server), invitation_link, "Gannet")
    page = invitee.page
    name, phrase = invitee.sign_in_details()
    shown = dict(zip(COPY_BUTTONS, [name, phrase, invitee.recovery_code()], strict=True))

    for button, text in shown.items():
        # When they press a copy button
        page.get_by_role("button", name=button, exact=True).click()

        # Then that detail is on the clipboard, and the status line (read out by screen readers) says so
        expect(copy_status(page)).to_contain_text("copied")
        assert page.evaluate("navigator.clipboard.readText()") == text
    expect(copy_status(page)).to_have_attribute("role", "status")
    expect(copy_status(page)).to_have_text("The recovery code is copied.")


def test_it_selects_the_text_and_says_how_to_copy_when_the_clipboard_refuses(new_context, invitation_link):
    # Given a person who has just joined, in a browser whose clipboard refuses the page
    context = new_context()
    context.add_init_script(REFUSING_CLIPBOARD)
    invitee = joined(context, invitation_link, "Shag")
    page = invitee.page
    _name, phrase = invitee.sign_in_details()

    # When they press "Copy sign-in phrase"
    page.get_by_role("button", name="Copy sign-in phrase").click()

    # Then the phrase is selected for them, and the status line says how to copy it themselves
    expect(copy_status(page)).to_contain_text("Ctrl and C")
    assert page.evaluate("window.getSelection().toString()").strip() == phrase


def test_it_prints_the_card_alone(new_context, invitation_link):
    # Given a person who has just joined, in a browser that counts calls to print
    context = new_context()
    context.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    invitee = joined(context, invitation_link, "Petrel")
    page = invitee.page
    name, phrase = invitee.sign_in_details()
    code = invitee.recovery_code()
    assert page.evaluate(PRINTED_OUTSIDE_THE_CARD)["outside"], "on screen, the page shows more than the card"

    # When they press "Print these details"
    page.get_by_role("button", name="Print these details").click()

    # Then the browser is asked to print
    assert page.evaluate("window.printed") == 1

    # And on paper only the card is visible, with the name, phrase and code, and none of its buttons
    page.emulate_media(media="print")
    printed = page.evaluate(PRINTED_OUTSIDE_THE_CARD)
    assert printed["outside"] == []
    assert all(part in printed["card"] for part in (name, phrase, code)), printed["card"]
    assert printed["buttons"] == 0


def test_it_checks_one_word_of_the_phrase_before_going_on(new_context, invitation_link):
    # Given a person who has just joined
    invitee = joined(new_context(), invitation_link, "Prion")
    page = invitee.page
    words = invitee.sign_in_details()[1].split()
    no_axe_violation(page)

    # When they say they have kept their details
    page.get_by_role("button", name="I have kept them safe").click()

    # Then the details are out of sight, and the page asks for one word of the phrase, said in words
    expect(page.get_by_test_id("sign-in-phrase")).to_be_hidden()
    number = asked_word(page)
    word = page.get_by_label(f"Type the {ORDINALS[number - 1]} word of your phrase")
    expect(word).to_be_focused()
    go_on = page.get_by_role("button", name="Go to my case")
    expect(go_on).to_be_disabled()

    # When they type another word of their phrase and press Enter
    word.fill(words[number % 6] if words[number % 6] != words[number - 1] else "albatross")
    word.press("Enter")

    # Then they stay, Continue stays off, and a kind message says what to do, blaming nobody
    message = page.locator("[data-check-message]")
    expect(message).to_contain_text("That is all right")
    said = message.inner_text().lower()
    assert not any(blame in said for blame in ("wrong", "incorrect", "failed", "error")), said
    expect(go_on).to_be_disabled()
    expect(page.get_by_role("heading", name="One check before you go on")).to_be_visible()
    no_axe_violation(page)

    # When they ask to see their details again
    page.get_by_role("button", name="Show my details again").click()

    # Then the card is back, phrase and all
    expect(page.get_by_test_id("sign-in-phrase")).to_have_text(" ".join(words))

    # When they type the word asked for, in capitals and with spaces around it
    page.get_by_role("button", name="I have kept them safe").click()
    word.fill(f"  {words[number - 1].upper()} ")

    # Then they may go on, and Continue takes them to their case
    expect(go_on).to_be_enabled()
    go_on.click()
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    assert invitee.greeting() == "Hello, Prion"


def test_it_reaches_each_button_in_order_by_keyboard_alone(new_context, invitation_link):
    # Given a person who has just joined, using only a keyboard (the page puts focus on its heading)
    invitee = joined(new_context(), invitation_link, "Fulmar")
    page = invitee.page
    words = invitee.sign_in_details()[1].split()
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    def tab() -> str:
        page.keyboard.press("Tab")
        return page.evaluate("document.activeElement.textContent.trim()")

    # When they press Tab through the details
    reached = [tab() for _step in range(5)]

    # Then they reach each copy button, printing, and going on, in that order
    assert reached == [*COPY_BUTTONS, "Print these details", "I have kept them safe"]

    # When they press Enter on "I have kept them safe", type the word asked for and Tab on
    page.keyboard.press("Enter")
    number = asked_word(page)
    page.keyboard.type(words[number - 1])
    after_word = [tab(), tab()]

    # Then they reach Continue, now on, and the way back to their details
    assert after_word == ["Go to my case", "Show my details again"]

    # And Continue, pressed with the keyboard, opens their case
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()


def test_it_offers_the_new_phrase_after_recovery_the_same_way(new_context, mend_server, invitation_link):
    # Given a participant who joined and kept their recovery code
    first = joined(new_context(), invitation_link, "Noddy")
    name, _phrase = first.sign_in_details()
    code = first.recovery_code()

    # When, in another browser, they use it
    rescued = Invitee(with_clipboard(new_context, mend_server).new_page())
    new_phrase = rescued.recover(name, code)
    page = rescued.page

    # Then their sign-in name and new phrase are on a card they can copy and print alone
    expect(page.get_by_test_id("sign-in-name")).to_have_text(name)
    page.get_by_role("button", name="Copy sign-in phrase").click()
    expect(copy_status(page)).to_have_text("The sign-in phrase is copied.")
    assert page.evaluate("navigator.clipboard.readText()") == new_phrase
    page.emulate_media(media="print")
    printed = page.evaluate(PRINTED_OUTSIDE_THE_CARD)
    assert printed["outside"] == [] and new_phrase in printed["card"]
    page.emulate_media(media="screen")

    # And Continue waits for one word of the new phrase
    page.get_by_role("button", name="I have kept them safe").click()
    number = asked_word(page)
    go_on = page.get_by_role("button", name="Continue")
    expect(go_on).to_be_disabled()
    page.locator("form[data-check] input").fill(new_phrase.split()[number - 1])
    go_on.click()
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
    assert rescued.greeting() == "Hello, Noddy"
