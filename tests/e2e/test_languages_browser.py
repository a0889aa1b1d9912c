"""A person who reads Arabic (right to left) or Spanish joins, consents, makes their choices, writes and reads
an encrypted message and leaves quickly, all in their language: every page says its language and direction,
shows the catalogue's words (the browser modules' too), and axe-core finds no WCAG 2.2 A or AA violation."""

from pathlib import Path

import polib
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.e2e.navigators import CRYPTO_TIMEOUT_MS, LIVE_SECONDS, QUICK_EXIT_URL, pass_the_phrase_check

pytestmark = pytest.mark.e2e

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()


def words_of(language: str):
    """The catalogues' words in `language` (the pages' and the browser modules'): the journey finds every
    label and button by them."""
    browser = polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "djangojs.po"))
    modules = {entry.msgid: entry.msgstr for entry in browser}

    def say(text: str) -> str:
        if text in modules:
            said = modules[text]
        else:
            with translation.override(language):
                said = translation.gettext(text)
        assert said and said != text, f"{text!r} has no {language} translation"
        return said

    return say


def looks_right(page: Page, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


@pytest.mark.parametrize("language", ["ar", "es"])
def test_a_person_takes_part_in_their_own_language(new_context, invitation_link, language):
    say = words_of(language)
    page = new_context(locale=language).new_page()

    # Given an invitation link, opened in a browser that asks for their language
    page.goto(invitation_link)
    looks_right(page, language)

    # When they join (the join page offers their language first, already chosen)
    expect(page.locator("#id_preferred_language")).to_have_value(language)
    page.get_by_label(say("The name others in the case will see")).fill(f"Heron {language}")
    page.get_by_role("button", name=say("Join")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        say("You have joined"), timeout=CRYPTO_TIMEOUT_MS
    )
    looks_right(page, language)
    pass_the_phrase_check(page)  # they show that they kept their details
    expect(page.get_by_role("heading", name=say("What happens next"))).to_be_visible()
    looks_right(page, language)
    case_page = page.url

    # And they agree to take part and to be contacted, reading the consent texts in their language
    page.get_by_role("link", name=say("Your consent")).first.click()
    take_part = page.locator("li[data-scope=take_part]")
    expect(take_part.locator(".consent-text")).to_have_attribute("lang", language)
    take_part.get_by_role("button", name=say("I agree"), exact=True).click()
    expect(page.locator("li[data-scope=take_part] .state")).to_have_text(say("You have agreed to this."))
    contact = page.locator("li[data-scope=facilitator_contact]")
    contact.get_by_role("button", name=say("I agree"), exact=True).click()
    expect(page.locator("li[data-scope=facilitator_contact] .state")).to_have_text(
        say("You have agreed to this.")
    )
    looks_right(page, language)

    # And they make their choices
    page.goto(f"{case_page}choices/")
    looks_right(page, language)
    page.locator("input[name=mode][value=indirect]").check()
    page.get_by_role("button", name=say("Save my choices")).click()
    expect(page.locator(".messages")).to_contain_text(
        say("Your choices are saved. You can change them at any time.")
    )

    # And they write to their facilitator: the message is locked in the browser and read back from the server
    page.goto(case_page)
    page.get_by_role("link", name=say("Messages"), exact=True).click()
    looks_right(page, language)
    page.get_by_role("link", name=say("You and your facilitator"), exact=True).click()
    connection = page.locator("[data-connection]")
    expect(connection).to_contain_text(
        say("Connected. Messages are locked on this device before they are sent."), timeout=LIVE_SECONDS
    )
    text = "مرحبا، أنا بخير اليوم" if language == "ar" else "Hola, hoy estoy bien"
    page.get_by_label(say("Your message")).fill(text)
    page.get_by_role("button", name=say("Send"), exact=True).click()
    # The composer keeps the focus, and the messages are a live log that announces only what is new
    expect(page.get_by_label(say("Your message"))).to_be_focused()
    log = page.locator("[data-messages-log]")
    expect(log).to_have_attribute("role", "log")
    expect(log).not_to_have_attribute("aria-busy", "true")
    page.reload()
    expect(page.locator("[data-messages] [data-text]", has_text=text)).to_have_count(1, timeout=LIVE_SECONDS)
    looks_right(page, language)

    # When they leave quickly, the button says so in their language, and Mend is gone
    expect(page.locator("#quick-exit")).to_have_text(say("Leave this site quickly"))
    page.locator("#quick-exit").click()
    page.wait_for_url(QUICK_EXIT_URL)
