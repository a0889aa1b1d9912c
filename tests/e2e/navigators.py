"""One navigator per kind of person in the browser journeys, so that a test reads like what they do."""

import base64
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django_otp.oath import totp
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, expect

# Stand-ins for the outside world; the browser never reaches the network, the context fulfils these.
NEUTRAL_START_URL = "https://news.example/"
QUICK_EXIT_URL = "https://neutral.example/"
_NEUTRAL_PAGES = {
    "news.example": ("Morning news", "Local news: the ferry timetable changes on Monday."),
    "neutral.example": ("Weather", "Weather today: light showers clearing by noon."),
}
_NEUTRAL_HOST = re.compile(r"^https://[a-z-]+\.example/")
SIGN_IN_PATH = "/account/sign-in/"
UNLOCK_PATH = "/account/keys/unlock/"  # where staff keys are opened (or made), after the second step
# Sign-in and joining derive keys with 600,000 PBKDF2 iterations in the browser: give them time.
CRYPTO_TIMEOUT_MS = 30_000
RECOVERY_CODE = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){7}")


def serve_neutral_sites(context: BrowserContext) -> None:
    """Answers requests for the invented outside sites with a small page each, offline."""

    def fulfil(route):
        host = urlsplit(route.request.url).hostname
        title, text = _NEUTRAL_PAGES.get(host, ("Elsewhere", "Another site."))
        body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>"
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

    context.route(_NEUTRAL_HOST, fulfil)


@dataclass(frozen=True)
class StaffAccount:
    email: str
    password: str
    name: str


def send_sign_in(page: Page, identifier: str, secret: str) -> None:
    """Fills in the sign-in page and sends it; the page's script derives the key and posts that."""
    page.goto(SIGN_IN_PATH)
    page.get_by_label("Email or sign-in name").fill(identifier)
    page.get_by_label("Password or sign-in phrase").fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()


def wait_for_sign_in(page: Page) -> str | None:
    """Waits until the sign-in page has moved on, or, at a first sign-in, shows the recovery code it made.
    Returns that code, or None."""
    code = page.get_by_test_id("recovery-code")
    for _tick in range(CRYPTO_TIMEOUT_MS // 100):
        if urlsplit(page.url).path != SIGN_IN_PATH:
            return None
        if code.is_visible():
            return code.inner_text().strip()
        errors = page.locator("[data-errors]")
        if errors.is_visible() and errors.inner_text().strip():
            raise AssertionError(f"sign-in refused: {errors.inner_text().strip()}")
        page.wait_for_timeout(100)
    raise AssertionError("the sign-in page neither moved on nor showed a recovery code")


class StaffMember:
    """A facilitator at work in Mend."""

    def __init__(self, page: Page, account: StaffAccount):
        self.page = page
        self.account = account
        self.recovery_code: str | None = None

    def sign_in(self) -> None:
        """Signs in; the first time, keeps the recovery code the page shows and continues."""
        send_sign_in(self.page, self.account.email, self.account.password)
        code = wait_for_sign_in(self.page)
        if code is not None:
            self.recovery_code = code
            self.keep_recovery_code_and_continue()

    def sign_in_for_the_first_time(self) -> None:
        """Signs in with no keys and no second factor yet: the page goes on to the second step."""
        send_sign_in(self.page, self.account.email, self.account.password)
        self.page.wait_for_url("**/account/two-factor/", timeout=CRYPTO_TIMEOUT_MS)

    def keep_recovery_code_and_continue(self) -> None:
        self.page.get_by_role("link", name="I have kept it safe. Continue").click()
        self.page.wait_for_url(lambda url: urlsplit(url).path not in (SIGN_IN_PATH, UNLOCK_PATH))

    def sees_second_factor_enrolment(self) -> bool:
        return self.page.get_by_test_id("totp-secret").is_visible()

    def _send_enrolment_code(self) -> None:
        """Types the key into a pretend authenticator app and sends back the code it shows now."""
        secret = self.page.get_by_test_id("totp-secret").inner_text().strip()
        code = totp(base64.b32decode(secret))
        self.page.get_by_label("6-digit code").fill(f"{code:06d}")
        self.page.get_by_role("button", name="Finish setting up").click()

    def enrol_second_factor(self) -> None:
        """Enrols; the page then opens their keys, or makes them and shows the recovery code, kept here."""
        self._send_enrolment_code()
        code = self.page.get_by_test_id("recovery-code")
        hello = self.page.get_by_role("heading", name=f"Hello, {self.account.name}")
        expect(code.or_(hello)).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
        if code.is_visible():
            self.recovery_code = code.inner_text().strip()
            self.keep_recovery_code_and_continue()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(f"Hello, {self.account.name}")

    def enrol_second_factor_for_the_first_time(self) -> str:
        """Enrols with no keys yet: the page makes them and shows a recovery code, which is returned."""
        self._send_enrolment_code()
        expect(self.page.get_by_role("heading", name="Your recovery code")).to_be_visible(
            timeout=CRYPTO_TIMEOUT_MS
        )
        self.recovery_code = self.page.get_by_test_id("recovery-code").inner_text().strip()
        return self.recovery_code

    def dashboard_greeting(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()

    def open_case(self, reference: str) -> None:
        self.page.goto("/")
        self.page.get_by_role("link", name=reference, exact=True).first.click()
        expect(self.page.get_by_test_id("case-reference")).to_have_text(reference)

    def invite(self, role: str) -> str:
        """Makes an invitation link for the open case and returns it, as the page shows it once."""
        self.page.get_by_label("Who are you inviting?").select_option(role)
        self.page.get_by_role("button", name="Make an invitation link").click()
        return self.page.get_by_test_id("invite-link").inner_text().strip()

    def people_in_case(self) -> str:
        return self.page.locator("table.people").inner_text()

    def try_to_schedule_a_dialogue(self, reference: str, attendees: list[str]) -> str:
        """Fills in a dialogue session with these people; returns what the page says back."""
        self.page.goto(f"/cases/{reference}/sessions/new/")
        self.page.get_by_label("Kind of session").select_option("dialogue")
        self.page.get_by_label("Date").fill("2031-05-06")
        self.page.locator("#id_time").fill("10:30")
        self.page.get_by_label("Time zone of that time").select_option("Pacific/Auckland")
        self.page.get_by_label(self.account.name, exact=False).check()
        for name in attendees:
            self.page.get_by_label(name, exact=False).check()
        self.page.get_by_role("button", name="Schedule").click()
        refusal = self.page.get_by_test_id("refusal")
        if refusal.count():
            return refusal.inner_text()
        return self.page.locator(".messages").inner_text()


class Party:
    """A person harmed or a person responsible, signed in with their own name and phrase."""

    def __init__(self, page: Page):
        self.page = page

    def sign_in(self, name: str, phrase: str) -> None:
        send_sign_in(self.page, name, phrase)
        expect(self.page.get_by_role("heading", name="What happens next")).to_be_visible(
            timeout=CRYPTO_TIMEOUT_MS
        )

    def stop_taking_part(self) -> None:
        self.page.get_by_role("button", name="Stop taking part").click()
        expect(self.page.locator(".messages")).to_contain_text("You have stopped taking part")

    def change_progress_updates(self, label: str, weeks: str = "") -> None:
        self.page.get_by_role("link", name="Your choices").click()
        self.page.get_by_label(label).check()
        if weeks:
            self.page.get_by_label("If a summary: every how many weeks?").fill(weeks)
        self.page.get_by_role("button", name="Save my choices").click()
        expect(self.page.locator(".messages")).to_contain_text("Your choices are saved")

    def case_page_text(self) -> str:
        self.page.goto("/")
        return self.page.locator("main").inner_text()


class Invitee:
    """Someone who was sent an invitation link: a party, possibly at risk of being watched."""

    def __init__(self, page: Page):
        self.page = page

    def visit(self, url: str) -> None:
        self.page.goto(url)

    def open_link(self, url: str) -> Response:
        response = self.page.goto(url)
        assert response is not None
        return response

    def choose_pseudonym(self, pseudonym: str) -> None:
        """Joins under this pseudonym: the page makes the phrase and keys here, and shows them once."""
        self.page.get_by_label("The name others in the case will see").fill(pseudonym)
        self.page.get_by_role("button", name="Join").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(
            "You have joined", timeout=CRYPTO_TIMEOUT_MS
        )

    def sign_in_details(self) -> tuple[str, str]:
        name = self.page.get_by_test_id("sign-in-name").inner_text().strip()
        phrase = self.page.get_by_test_id("sign-in-phrase").inner_text().strip()
        return name, phrase

    def recovery_code(self) -> str:
        return self.page.get_by_test_id("recovery-code").inner_text().strip()

    def go_to_my_case(self) -> None:
        self.page.get_by_role("link", name="Go to my case").click()
        expect(self.page.get_by_role("heading", name="What happens next")).to_be_visible()

    def sign_in(self, name: str, phrase: str) -> None:
        send_sign_in(self.page, name, phrase)
        expect(self.page.get_by_role("heading", name="What happens next")).to_be_visible(
            timeout=CRYPTO_TIMEOUT_MS
        )

    def try_to_sign_in(self, name: str, phrase: str) -> str:
        """Signs in expecting a refusal; returns what the page says."""
        send_sign_in(self.page, name, phrase)
        errors = self.page.locator("[data-errors]")
        expect(errors).to_be_visible(timeout=CRYPTO_TIMEOUT_MS)
        return errors.inner_text().strip()

    def recover(self, name: str, code: str) -> str:
        """Uses the recovery code on the recovery page; returns the new phrase the page shows."""
        self.page.goto("/account/recover/")
        self.page.get_by_label("Email or sign-in name").fill(name)
        self.page.get_by_label("Recovery code").fill(code)
        self.page.get_by_role("button", name="Set it up again").click()
        expect(self.page.get_by_role("heading", name="You are signed in again")).to_be_visible(
            timeout=CRYPTO_TIMEOUT_MS
        )
        return self.page.get_by_test_id("sign-in-phrase").inner_text().strip()

    def continue_after_recovery(self) -> None:
        self.page.get_by_role("link", name="Continue").click()
        expect(self.page.get_by_role("heading", name="What happens next")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_url(lambda url: urlsplit(url).path == SIGN_IN_PATH)

    def greeting(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()

    def facilitator(self) -> str:
        return self.page.get_by_test_id("facilitator").inner_text().strip()

    def next_step(self) -> str:
        return self.page.get_by_test_id("next-step").inner_text().strip()

    def quick_exit(self) -> None:
        self.page.locator("#quick-exit").click()
        self._wait_until_gone()

    def press_escape_twice(self) -> None:
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Escape")
        self._wait_until_gone()

    def _wait_until_gone(self) -> None:
        self.page.wait_for_url(QUICK_EXIT_URL)
        self.page.wait_for_load_state()

    def go_back(self) -> None:
        self.page.go_back()
        self.page.wait_for_load_state()

    def go_forward(self) -> None:
        self.page.go_forward()
        self.page.wait_for_load_state()

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text()


class CspWatcher:
    """Collects Content-Security-Policy violations on a page: Chromium's console errors and the DOM events."""

    def __init__(self, page: Page):
        self.violations: list[str] = []
        page.on("console", self._on_console)
        page.expose_function("__mendCspViolation", self._on_event)
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => "
            "window.__mendCspViolation(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`));"
        )

    def _on_event(self, text: str) -> None:
        self.violations.append(text)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.violations.append(message.text)
