"""One navigator per kind of person in the browser journeys, so that a test reads like what they do:
`ResponsibleParty(page).write_for_the_other_side(...)`, `Facilitator(page).return_with_note(...)`.

They sign in through the real sign-in page (the passphrase becomes keys in the browser), so each keeps its
unlocked keys in its own browser context for as long as the test runs."""

import base64
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django_otp.oath import totp
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, Response, expect

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
LIVE_SECONDS = 15_000  # what arrives over the websocket may take a moment on a busy machine
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
    button = page.get_by_role("button", name="Sign in", exact=True)
    expect(button).to_be_enabled(timeout=LIVE_SECONDS)  # the page's script is ready to derive the keys
    button.click()


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


def pass_the_phrase_check(page: Page) -> None:
    """After joining or recovery: keeps the details shown once, types the word of the phrase the page asks for
    and goes on (in any language: the page says which word in data-word)."""
    phrase = page.get_by_test_id("sign-in-phrase").inner_text().split()
    page.locator("[data-kept]").click()
    asked = page.locator("form[data-check] input")
    asked.fill(phrase[int(asked.get_attribute("data-word")) - 1])
    page.locator("form[data-check] [data-continue]").click()


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

    def scheduling_offers(self, reference: str) -> tuple[list[str], str]:
        """The scheduling page's offer: the names of the people who can be chosen as attendees, and the line
        naming those who are not taking part for now ("" when everyone is)."""
        self.page.goto(f"/cases/{reference}/sessions/new/")
        boxes = self.page.locator('input[name="attendees"]')
        offered = [
            self.page.locator(f'label[for="{boxes.nth(i).get_attribute("id")}"]').inner_text().strip()
            for i in range(boxes.count())
        ]
        left_out = self.page.get_by_test_id("not-taking-part")
        return offered, (left_out.inner_text() if left_out.count() else "")

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
        pass_the_phrase_check(self.page)
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
        pass_the_phrase_check(self.page)
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


# --- the encrypted conversations -------------------------------------------------------------------


@dataclass(frozen=True)
class DialogueCase:
    """What dialogue_seed.py made: the case, the facilitator's account and authenticator, and the parties."""

    case_reference: str
    facilitator_email: str
    facilitator_password: str
    facilitator_name: str
    totp_key: str
    harmed_sign_in: str
    harmed_pseudonym: str
    responsible_sign_in: str
    responsible_pseudonym: str
    phrase: str
    direct_conversation: str

    @classmethod
    def from_seed(cls, seeded: dict) -> "DialogueCase":
        return cls(**{name: seeded[name] for name in cls.__dataclass_fields__})


class InConversation:
    """What everyone can do in the messages of a case."""

    def __init__(self, page: Page):
        self.page = page

    # --- finding one's way ----------------------------------------------------------------------------

    def open_messages(self, reference: str) -> None:
        self.page.goto(f"/cases/{reference}/messages/")
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Messages")

    def conversation_titles(self) -> list[str]:
        return [t.strip() for t in self.page.locator("ul.links a").all_inner_texts()]

    def open_conversation(self, title: str) -> None:
        self.page.get_by_role("link", name=title, exact=True).click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(title)
        self.wait_until_connected()

    def wait_until_connected(self) -> None:
        expect(self.page.locator("[data-connection]")).to_contain_text("Connected", timeout=LIVE_SECONDS)

    def reload(self) -> None:
        self.page.reload()

    # --- messages -------------------------------------------------------------------------------------

    def messages(self) -> Locator:
        return self.page.locator("[data-messages] > li")

    def message(self, text: str) -> Locator:
        return self.messages().filter(has=self.page.locator("[data-text]", has_text=text))

    def sees_message(self, text: str, *, timeout: int = LIVE_SECONDS) -> Locator:
        found = self.message(text)
        expect(found).to_have_count(1, timeout=timeout)
        return found

    def status_of(self, text: str) -> Locator:
        return self.message(text).locator("[data-status]")

    def marker_of(self, text: str) -> Locator:
        return self.message(text).locator("[data-marker]")

    def write(self, text: str, *, files: list[dict] | None = None) -> None:
        self.page.get_by_label(self._draft_label()).fill(text)
        if files:
            self.page.locator("[data-files]").set_input_files(files)
        self.page.get_by_role("button", name="Send", exact=True).click()
        expect(self.message(text)).to_have_count(1)

    def _draft_label(self) -> str:
        return "Your message"

    # --- keys -----------------------------------------------------------------------------------------

    def safety_code_of(self, name: str) -> str:
        """The safety code this page shows with a person, as the browser worked it out from both people's
        keys: the same on both their screens."""
        code = self.page.locator(f"[data-safety-code][data-name='{name}']")
        expect(code).to_have_attribute("data-checked", "1", timeout=LIVE_SECONDS)
        return code.inner_text().strip()

    def key_warnings(self) -> Locator:
        """Refused keys, changed keys, new members, and whether sending is held."""
        return self.page.locator("[data-key-warnings]")

    def sending_is_held(self) -> Locator:
        return self.page.locator("[data-key-warnings] [data-sending-held]")

    def say_i_have_checked(self) -> None:
        """Clicks "I have checked" on every change shown, one after the other."""
        buttons = self.page.locator("[data-key-warnings] [data-checked-change]:enabled")
        expect(buttons.first).to_be_visible()
        while buttons.count():
            buttons.first.click()
        expect(self.sending_is_held()).to_have_count(0, timeout=LIVE_SECONDS)

    def try_to_write(self, text: str) -> None:
        """Writes and presses Send, whatever then happens."""
        self.page.get_by_label(self._draft_label()).fill(text)
        self.page.get_by_role("button", name="Send", exact=True).click()

    def errors(self) -> Locator:
        return self.page.locator("[data-errors]")


class Facilitator(InConversation):
    """A facilitator running the case: the relay queue, returning and passing on, their own conversations."""

    def __init__(self, page: Page, case: DialogueCase):
        super().__init__(page)
        self.case = case
        self.recovery_code = ""

    def sign_in(self) -> None:
        """Signs in, passes the second step with a code from their authenticator, and then the page unlocks
        their keys (or makes them and shows a recovery code once): staff keys come only after that step."""
        send_sign_in(self.page, self.case.facilitator_email, self.case.facilitator_password)
        self.page.wait_for_url("**/account/two-factor/**", timeout=LIVE_SECONDS)
        now = totp(bytes.fromhex(self.case.totp_key))
        self.page.get_by_label("6-digit code").fill(f"{now:06d}")
        self.page.get_by_role("button", name="Continue").click()
        code = self.page.get_by_test_id("recovery-code")
        hello = self.page.get_by_role("heading", name=f"Hello, {self.case.facilitator_name}")
        expect(code.or_(hello)).to_be_visible(timeout=LIVE_SECONDS)
        if code.is_visible():
            self.recovery_code = code.inner_text().strip()
            self.page.get_by_role("link", name="I have kept it safe. Continue").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(f"Hello, {self.case.facilitator_name}")

    def open_case_messages(self) -> None:
        self.open_messages(self.case.case_reference)

    def relay_queue(self) -> list[str]:
        self.open_case_messages()
        queue = self.page.get_by_test_id("relay-queue")
        if not queue.count():
            return []
        return [t.strip() for t in queue.locator("li").all_inner_texts()]

    def open_exchange_of(self, pseudonym: str) -> None:
        self.open_case_messages()
        self.open_conversation(f"Exchange through the facilitator: {self._word(pseudonym)} {pseudonym}")

    def open_conversation_with(self, pseudonym: str) -> None:
        self.open_case_messages()
        self.open_conversation(f"With {pseudonym}")

    def _word(self, pseudonym: str) -> str:
        return "person harmed" if pseudonym == self.case.harmed_pseudonym else "person responsible"

    def return_with_note(self, text: str, note: str) -> None:
        message = self.sees_message(text)
        message.get_by_label("A note for the writer").fill(note)
        message.get_by_role("button", name="Return with this note").click()
        self.sees_message(note)

    def pass_on(self, text: str, to_pseudonym: str) -> None:
        """Opens the other side's exchange once on this device first (a page passes nothing on to a
        conversation whose people it has never seen and pinned), then passes the message on from here."""
        here = self.page.url
        self.open_exchange_of(to_pseudonym)
        self.page.goto(here)
        self.wait_until_connected()
        message = self.sees_message(text)
        message.get_by_role("button", name=f"Pass on to {self._word(to_pseudonym)} {to_pseudonym}").click()
        expect(self.status_of(text)).to_have_text("Passed on", timeout=LIVE_SECONDS)

    def open_file(self, text: str, file_name: str) -> bytes:
        """Opens a file that came with a message: fetched encrypted, unlocked in this browser, saved."""
        button = self.sees_message(text).get_by_role("button", name=file_name)
        with self.page.expect_download() as download:
            button.click()
        path = download.value.path()
        with open(path, "rb") as saved:
            return saved.read()


class Party(InConversation):
    """A person harmed or responsible, signed in with their own name and phrase: those of a seeded case
    (`case`, `sign_in_name`), or given at sign-in."""

    MY_EXCHANGE = "Messages through your facilitator"
    WITH_FACILITATOR = "You and your facilitator"

    def __init__(self, page: Page, case: "DialogueCase | None" = None, sign_in_name: str = ""):
        super().__init__(page)
        self.case = case
        self.sign_in_name = sign_in_name

    def sign_in(self, name: str = "", phrase: str = "") -> None:
        send_sign_in(self.page, name or self.sign_in_name, phrase or self.case.phrase)
        self.page.wait_for_url(lambda url: urlsplit(url).path != SIGN_IN_PATH, timeout=CRYPTO_TIMEOUT_MS)
        if name:  # the journeys that give the name land on the case page
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

    def open_case_messages(self) -> None:
        self.open_messages(self.case.case_reference)

    def open_my_exchange(self) -> None:
        self.open_case_messages()
        self.open_conversation(self.MY_EXCHANGE)

    def open_conversation_with_facilitator(self) -> None:
        self.open_case_messages()
        self.open_conversation(self.WITH_FACILITATOR)

    def write_for_the_other_side(self, text: str, *, may_pass_on: bool) -> None:
        self.page.get_by_label("Write to the other person. Your facilitator reads it first.").fill(text)
        agree = self.page.get_by_label("My facilitator may pass this on when it is ready")
        agree.set_checked(may_pass_on)
        self.page.get_by_role("button", name="Send", exact=True).click()
        expect(self.message(text)).to_have_count(1)

    def _draft_label(self) -> str:
        exchange = self.page.locator("[data-conversation][data-kind='for_relay']").count()
        return "Write to the other person. Your facilitator reads it first." if exchange else "Your message"


class HarmedParty(Party):
    def __init__(self, page: Page, case: DialogueCase):
        super().__init__(page, case, case.harmed_sign_in)

    def turn_read_receipts_off(self) -> None:
        self.page.get_by_test_id("receipts-off").click()
        expect(self.page.locator(".messages")).to_contain_text("Others will no longer see")
        self.wait_until_connected()


class ResponsibleParty(Party):
    def __init__(self, page: Page, case: DialogueCase):
        super().__init__(page, case, case.responsible_sign_in)

    def start_a_draft(self, text: str) -> None:
        self.page.get_by_label("Write to the other person. Your facilitator reads it first.").fill(text)

    def guide_notes(self) -> Locator:
        return self.page.locator("[data-guide-panel]")

    def try_to_open_conversation(self, public_id: str) -> int:
        """Goes straight to a conversation's address; returns the HTTP status the page came with."""
        response = self.page.goto(f"/cases/{self.case.case_reference}/messages/{public_id}/")
        assert response is not None
        return response.status

    def try_to_connect_to(self, public_id: str) -> dict:
        """Opens the conversation's websocket from a page of Mend and says hello: whether it opened, how many
        frames came back, and the code it was closed with."""
        return self.page.evaluate(
            """(id) => new Promise((resolve) => {
                const seen = {opened: false, frames: 0, code: null};
                const socket = new WebSocket(`ws://${location.host}/ws/conversations/${id}/`);
                socket.addEventListener("open", () => {
                    seen.opened = true;
                    socket.send(JSON.stringify({type: "hello", after: 0}));
                });
                socket.addEventListener("message", () => { seen.frames += 1; });
                socket.addEventListener("close", (event) => resolve({...seen, code: event.code}));
                setTimeout(() => { socket.close(); resolve(seen); }, 5000);
            })""",
            public_id,
        )

    def try_to_send_to(self, public_id: str) -> int:
        """Posts an envelope to the conversation's send address; returns the HTTP status."""
        return self.page.evaluate(
            """async ([base, id]) => {
                const csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
                const response = await fetch(`${base}${id}/send/`, {
                    method: "POST",
                    credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : ""},
                    body: JSON.stringify({v: 1, conversation: id}),
                });
                return response.status;
            }""",
            [f"/cases/{self.case.case_reference}/messages/", public_id],
        )


def png_with(text: str) -> bytes:
    """A small, valid PNG whose bytes carry the text in a tEXt chunk (so a search for it means something)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + text.encode())
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def pdf_with(text: str) -> bytes:
    """A one-page PDF whose content stream says the text."""
    stream = f"BT /F1 12 Tf 40 750 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return bytes(out)


def as_upload(name: str, mime_type: str, data: bytes) -> dict:
    return {"name": name, "mimeType": mime_type, "buffer": data}


def b64_forms(text: str) -> list[bytes]:
    """The text in base64 at each of the three byte alignments it could have inside longer data, in the
    standard and the url-safe alphabet: only the characters that the text's own bytes decide."""
    raw = text.encode()
    forms = []
    for shift, skip in ((0, 0), (1, 2), (2, 3)):
        whole_groups = (shift + len(raw)) // 3
        core = base64.b64encode(b"\x00" * shift + raw)[skip : 4 * whole_groups]
        forms += [core, core.replace(b"+", b"-").replace(b"/", b"_")]
    return forms


def loads_last_line(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])
