"""Keyboard-only journeys: signing in, writing in a conversation and changing one's choices and consent with
Tab, Shift+Tab, the arrow keys, Space and Enter alone (no clicks, no filling in, no focus() from the test),
checking at each stop what a screen reader says and that the focus can be seen; and what a screen reader is
told of everything that can take focus on these pages and the join page (tests/e2e/a11y.py)."""

import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.a11y import KeyboardUser, focusable_elements, in_order, nameless_or_undescribed, problems_of
from tests.e2e.matrix_server import matrix_pages, matrix_server_fixture  # noqa: F401 - the fixture matrix_server
from tests.e2e.navigators import (
    CRYPTO_TIMEOUT_MS,
    LIVE_SECONDS,
    QUICK_EXIT_URL,
    SIGN_IN_PATH,
    DialogueCase,
    Facilitator,
    Party,
    loads_last_line,
)

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("dialogue_seed.py")
VIDEO_SEED = Path(__file__).with_name("video_seed.py")
NAME_FIELD = "Email or sign-in name"
PHRASE_FIELD = "Password or sign-in phrase"
KEYS_UNLOCKED = "async () => !!(await (await import('/static/mend/e2e.js')).loadKeyset())"


def seeded(seed: Path, server_database_url: str, tmp_path_factory) -> dict:
    """Runs a seed script against the e2e server's database; what it printed."""
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    output = servers.run([sys.executable, str(seed), secrets.token_hex(3)], env, f"Seeding {seed.name}")
    return loads_last_line(output)


@pytest.fixture(scope="module")
def case(mend_server, server_database_url, tmp_path_factory) -> DialogueCase:
    """A case of its own (tests/e2e/dialogue_seed.py): the person harmed, Sorrel, chose an exchange through
    the facilitator and hears of progress only at the end."""
    return DialogueCase.from_seed(seeded(SEED, server_database_url, tmp_path_factory))


@pytest.fixture(scope="module")
def meeting_day(mend_server, server_database_url, tmp_path_factory) -> tuple[DialogueCase, str]:
    """A case whose meeting began two minutes ago, not opened yet (tests/e2e/video_seed.py), and its page."""
    raw = seeded(VIDEO_SEED, server_database_url, tmp_path_factory)
    return DialogueCase.from_seed(raw), f"/cases/{raw['case_reference']}/sessions/{raw['session_id']}/"


def open_sign_in(page: Page) -> KeyboardUser:
    page.goto(SIGN_IN_PATH)
    # The button is enabled once the page's script is ready to turn the phrase into keys.
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_enabled(timeout=LIVE_SECONDS)
    return KeyboardUser(page)


def sign_in_by_keyboard(page: Page, name: str, phrase: str) -> KeyboardUser:
    """Signs in as a person who uses only the keyboard, and waits for their case page."""
    you = open_sign_in(page)
    you.tab_to(NAME_FIELD)
    you.type(name)
    you.press("Tab")
    you.type(phrase)
    you.press("Enter")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
    return you


def follow_link(you: KeyboardUser, name: str) -> None:
    you.tab_to(name, role="link")
    with you.page.expect_navigation():
        you.press("Enter")


def no_visible_focus(walk) -> list[str]:
    unseen = [stop for stop in walk if not stop.shows_focus]
    return [f"{stop} (outline {stop.outline_style} {stop.outline_width}px)" for stop in unseen]


def test_it_signs_in_with_the_keyboard_alone(new_context, case):
    # Given a person on the sign-in page, who uses only the keyboard
    page = new_context().new_page()
    you = open_sign_in(page)

    # When they press Tab from the top of the page to the button
    walk = you.tab_to("Sign in", role="button")

    # Then the skip link comes first, then the quick exit, and the form in the order it is read
    names = [stop.name for stop in walk]
    assert names[:2] == ["Skip to content", "Leave this site quickly"], names
    assert names[-3:] == [NAME_FIELD, PHRASE_FIELD, "Sign in"], names
    assert [stop.role for stop in walk[-3:]] == ["textbox", "textbox", "button"]
    # And every stop shows where the focus is
    assert no_visible_focus(walk) == []

    # When they go back to the top and follow the skip link
    page.reload()
    you = open_sign_in(page)
    you.press("Tab")
    assert you.focused().name == "Skip to content"
    you.press("Enter")
    # Then the next Tab starts in the main content, past the quick exit and the site's name
    assert urlsplit(page.url).fragment == "main"
    you.press("Tab")
    assert you.focused().name == NAME_FIELD

    # When they send the form empty
    you.tab_to("Sign in", role="button")
    you.press("Enter")
    # Then the summary of what to fix takes the focus, is read out, and names the field
    summary = page.locator("[data-errors]")
    expect(summary).to_be_focused(timeout=CRYPTO_TIMEOUT_MS)
    assert summary.inner_text().strip()
    name_box = page.get_by_label(NAME_FIELD)
    expect(name_box).to_have_attribute("aria-invalid", "true")
    # And its first link leads into the field it names
    link = you.tab_to(summary.get_by_role("link").first.inner_text().strip(), role="link", limit=3)[-1]
    assert NAME_FIELD in link.name
    you.press("Enter")
    expect(name_box).to_be_focused()

    # When they type their name and a phrase that is not theirs
    you.type(case.harmed_sign_in)
    you.press("Tab")
    you.type("not my phrase at all")
    you.press("Enter")
    # Then the summary takes the focus again, saying what went wrong
    expect(summary).to_be_focused(timeout=CRYPTO_TIMEOUT_MS)
    assert summary.inner_text().strip()
    assert urlsplit(page.url).path == SIGN_IN_PATH

    # When they go back to the phrase, type the right one and press Enter
    you.tab_to(PHRASE_FIELD, role="textbox")
    you.press("ControlOrMeta+A")
    you.type(case.phrase)
    you.press("Enter")

    # Then they are on their own case page, with their keys unlocked on this device
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
    assert page.evaluate(KEYS_UNLOCKED)


def test_it_writes_and_sends_a_message_with_the_keyboard_alone(new_context, case):
    # Given the person harmed, signed in with the keyboard, on their case page
    page = new_context().new_page()
    you = sign_in_by_keyboard(page, case.harmed_sign_in, case.phrase)

    # When they follow the links to the conversation with their facilitator
    follow_link(you, "Messages")
    walk = you.tab_to("You and your facilitator", role="link")
    assert no_visible_focus(walk) == []
    with page.expect_navigation():
        you.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("You and your facilitator")
    expect(page.locator("[data-connection]")).to_contain_text("Connected", timeout=LIVE_SECONDS)

    # And Tab to the message box, write, and Tab on to Send and press Enter
    walk = you.tab_to("Your message", role="textbox")
    you.type("Typed with the keyboard only.")
    walk += you.tab_to("Send", role="button")
    assert no_visible_focus(walk) == []
    you.press("Enter")

    # Then the message shows, unlocked on this device, and the focus is back in the message box, empty
    sent = page.locator("[data-messages] > li [data-text]", has_text="Typed with the keyboard only.")
    expect(sent).to_have_count(1, timeout=LIVE_SECONDS)
    draft = page.get_by_label("Your message")
    expect(draft).to_be_focused()
    expect(draft).to_have_value("")
    assert you.focused().shows_focus

    # When they start another message and press Escape twice (a screen reader's way out of a text box; twice
    # elsewhere is the quick exit)
    here = page.url
    you.type("A second thought, not sent yet")
    you.press("Escape")
    you.press("Escape")
    page.wait_for_timeout(1000)

    # Then they are still here, with their draft as it was
    assert page.url == here
    expect(page.get_by_role("heading", level=1)).to_have_text("You and your facilitator")
    expect(draft).to_have_value("A second thought, not sent yet")
    expect(draft).to_be_focused()

    # And the Send button sends with Space too
    you.tab_to("Send", role="button")
    you.press("Space")
    expect(page.locator("[data-messages] > li [data-text]", has_text="A second thought")).to_have_count(
        1, timeout=LIVE_SECONDS
    )
    expect(draft).to_be_focused()

    # When they go back to the quick exit with Shift+Tab and press Enter, once
    you.tab_to("Leave this site quickly", backwards=True)
    you.press("Enter")
    # Then they are on the neutral site at once
    page.wait_for_url(QUICK_EXIT_URL)


def test_it_changes_choices_and_consent_with_the_keyboard_alone(new_context, case):
    # Given the person harmed, signed in with the keyboard, on their case page
    page = new_context().new_page()
    you = sign_in_by_keyboard(page, case.harmed_sign_in, case.phrase)

    # When they follow the link to their choices and Tab through them
    follow_link(you, "Your choices")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your choices")
    walk = you.tab_to("Save my choices", role="button")

    # Then each group of choices is one stop, on its chosen option, and every stop shows its focus
    radios = [stop for stop in walk if stop.role == "radio"]
    assert [stop.name for stop in radios] == ["Through my facilitator (indirect)", "Only at the end"], walk
    assert in_order(
        [stop.name.rstrip(":") for stop in walk],
        ["Through my facilitator (indirect)", "My supporters may attend", "Only at the end"],
    )
    assert no_visible_focus(walk) == []

    # When they go back to how they hear of progress and choose a summary with the arrow keys
    you.tab_to("Only at the end", role="radio", backwards=True)
    you.press("ArrowUp")
    assert you.focused().name == "A summary every few weeks"
    summary = page.get_by_label("A summary every few weeks")
    expect(summary).to_be_checked()
    # And Tab on to the number of weeks that choice needs, and send the form with Enter there
    you.tab_to("If a summary: every how many weeks?", role="spinbutton")
    you.type("3")
    you.press("Enter")

    # Then the case page says the choices are saved, in the status message at the start of the main content
    status = page.get_by_role("status").filter(has_text="Your choices are saved")
    expect(status).to_be_visible()
    you.press("Tab")
    assert you.focused().name == "Skip to content"
    you.press("Enter")
    assert page.evaluate("document.querySelector('main [role=status]') !== null")
    # And the choices page shows the new choice
    follow_link(you, "Your choices")
    expect(summary).to_be_checked()
    expect(page.get_by_label("If a summary: every how many weeks?")).to_have_value("3")

    # When they open their consent page and Tab to the button that gives the consent to hear of progress
    page.goto(f"/cases/{case.case_reference}/")
    follow_link(you, "Your consent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your consent")
    walk = you.tab_to("I agree", role="button", description="Hearing about progress")
    # Then every "I agree" on the way says which consent it gives, and every stop shows its focus
    agreeing = [stop.description for stop in walk if stop.name == "I agree"]
    assert "Meeting directly, in person or by video" in agreeing, agreeing
    assert no_visible_focus(walk) == []
    # When they press Space on it
    with page.expect_navigation():
        you.press("Space")
    # Then the page comes back at that consent, the focus on what it now says, which a sighted person sees too
    progress = page.locator("li[data-scope=progress_updates]")
    expect(progress.locator(".state")).to_be_focused()
    expect(progress.locator(".state")).to_have_text("You have agreed to this.")
    assert urlsplit(page.url).fragment == "progress_updates-state"
    assert you.focused().shows_focus
    # And the status line says it is done
    expect(page.get_by_role("status")).to_contain_text("Thank you. You can change your mind at any time.")

    # When they press Tab once
    you.press("Tab")
    # Then they are on the button that takes that consent back, described by it, and press Enter
    taking_back = you.focused()
    assert (taking_back.role, taking_back.name) == ("button", "Take back my consent")
    assert taking_back.description == "Hearing about progress"
    with page.expect_navigation():
        you.press("Enter")
    # Then it is taken back, and the focus is again on what that consent now says
    expect(progress.locator(".state")).to_be_focused()
    expect(progress.locator(".state")).to_have_text("You have not agreed to this.")
    expect(page.get_by_role("status")).to_contain_text("Done. Your consent is withdrawn.")
    # And the next Tab is the button that gives it again
    you.press("Tab")
    assert (you.focused().name, you.focused().description) == ("I agree", "Hearing about progress")


def test_everything_that_takes_focus_is_named_on_the_keyboard_pages(new_context, case):
    # Given the person harmed, signed in, and the pages of the journeys above
    page = new_context().new_page()
    assert nameless_or_undescribed(open_sign_in(page).page) == [], "sign-in page"
    sign_in_by_keyboard(page, case.harmed_sign_in, case.phrase)
    reference = case.case_reference
    pages = {
        "case page": f"/cases/{reference}/",
        "choices page": f"/cases/{reference}/choices/",
        "consent page": f"/cases/{reference}/consent/",
        "messages page": f"/cases/{reference}/messages/",
    }
    problems = {}
    for label, path in pages.items():
        page.goto(path)
        problems[label] = nameless_or_undescribed(page)

    # And each of their conversations, the exchange through the facilitator with its agreement box too
    for title in ("You and your facilitator", "Messages through your facilitator"):
        page.goto(pages["messages page"])
        page.get_by_role("link", name=title, exact=True).click()
        expect(page.locator("[data-connection]")).to_contain_text("Connected", timeout=LIVE_SECONDS)
        problems[title] = nameless_or_undescribed(page)

    # Then everything that can take focus has a name, and every field's help text is read out with it
    assert problems == {label: [] for label in problems}


def test_everything_that_takes_focus_is_named_on_the_join_page(new_context, case):
    # Given a facilitator who makes an invitation link, and the person who opens it
    rowan = Facilitator(new_context().new_page(), case)
    rowan.sign_in()
    rowan.page.goto(f"/cases/{case.case_reference}/")
    staff_problems = nameless_or_undescribed(rowan.page)
    rowan.page.get_by_label("Who are you inviting?").select_option("community_member")
    rowan.page.get_by_role("button", name="Make an invitation link").click()
    link = rowan.page.get_by_test_id("invite-link").inner_text().strip()
    joining = new_context().new_page()
    joining.goto(link)
    expect(joining.get_by_role("button", name="Join")).to_be_enabled()

    # Then on both pages, everything that can take focus has a name, and help text is read with its field
    assert staff_problems == []
    assert nameless_or_undescribed(joining) == []

    # And a keyboard user reaches the name field, then Join, in that order, every stop showing its focus
    you = KeyboardUser(joining)
    walk = you.tab_to("Join", role="button")
    names = [stop.name.rstrip(":") for stop in walk]
    assert in_order(names, ["Skip to content", "The name others in the case will see"]), names
    assert no_visible_focus(walk) == []


def test_everything_that_takes_focus_is_named_on_the_day_of_a_meeting(new_context, meeting_day):
    # Given the person harmed on the page of their meeting, whose time has come: they can check in
    case, path = meeting_day
    marram = Party(new_context().new_page(), case, case.harmed_sign_in)
    marram.sign_in()
    marram.page.goto(path)
    expect(marram.page.get_by_role("group", name="How are you arriving today?")).to_be_visible()
    problems = {"check-in": nameless_or_undescribed(marram.page)}

    # When the facilitator opens the meeting from its page
    ira = Facilitator(new_context().new_page(), case)
    ira.sign_in()
    ira.page.goto(path)
    ira.page.get_by_role("button", name="Open the meeting").click()
    # Then their page asks who was there, and the person harmed's page lets them check out
    expect(ira.page.get_by_role("group", name="Who was there")).to_be_visible()
    problems["attendance"] = nameless_or_undescribed(ira.page)
    marram.page.reload()
    expect(marram.page.get_by_role("group", name="How are you leaving?")).to_be_visible()
    problems["check-out"] = nameless_or_undescribed(marram.page)

    # And on each, everything that can take focus has a name, and every help text is read with its field
    assert problems == {label: [] for label in problems}


# Form pages of the permission matrix that the test must have read, so that a change of the matrix cannot
# quietly drop them: sign-in, recovery, joining, settings, choices and consent, the assessment, the meeting
# page (its check-in and check-out), scheduling a meeting, the staff case page (inviting, assigning).
FORM_PAGES = {
    ("accounts:sign_in", "harmed"),
    ("accounts:recover", "harmed"),
    ("accounts:settings", "harmed"),
    ("accounts:settings", "facilitator"),
    ("join", "harmed"),
    ("consent:choices", "harmed"),
    ("consent:consent", "harmed"),
    ("assessments:assessment", "facilitator"),
    ("assessments:safety_plan", "facilitator"),
    ("sessions:meeting", "harmed"),
    ("sessions:meeting", "facilitator"),
    ("sessions:schedule", "facilitator"),
    ("cases:detail", "facilitator"),
    ("cases:intake", "facilitator"),
    ("circles:new", "facilitator"),
    ("agreements:item", "responsible"),
}


def test_everything_that_takes_focus_is_named_on_every_matrix_page(browser, matrix_server):
    # Given every page of the permission matrix, seen by one person taking part and one member of staff
    visits = matrix_pages()
    missing = FORM_PAGES - set(visits)
    assert not missing, sorted(missing)
    problems, read, with_help = {}, 0, []
    for name, role in visits:
        page = matrix_server.page_as(browser, role)
        response = page.goto(matrix_server.paths[name], wait_until="load")
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue  # a file or JSON (matrix_server.NOT_PAGES): nothing for a screen reader to read
        read += 1
        elements = focusable_elements(page)
        with_help += [(name, element["tag"]) for element in elements if element["help"]]
        # Then every link, button, field and group has a name, and every field's help text is read with it
        found = problems_of(elements)
        if found:
            problems[f"{name} ({matrix_server.paths[name]}) as {role}"] = found
    assert read >= 50, f"only {read} pages read"
    # (and help text was found to check: fields with help on several pages, groups of choices among them)
    assert len({page for page, _tag in with_help}) >= 5 and ("fieldset" in {tag for _page, tag in with_help})
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
