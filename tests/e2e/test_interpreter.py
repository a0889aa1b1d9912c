"""The interpreter journey in headless Chromium: the person harmed agrees to have an interpreter, the
interpreter signs in and reads what that person wrote, unlocked on their own device; the person takes the
consent back, and at once the interpreter's open conversation closes and its page is a 404.

The case is seeded into the e2e server's database (tests/e2e/interpreter_seed.py): Sorrel, the person
harmed, and Linden, her interpreter, who has joined and consents to take part.
"""

import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import servers
from tests.e2e.navigators import LIVE_SECONDS, DialogueCase, HarmedParty, Party, loads_last_line

pytestmark = pytest.mark.e2e

SEED = Path(__file__).with_name("interpreter_seed.py")
INTERPRETER_PRESENT = "An interpreter is helping in this conversation."


class HarmedPartyWithInterpreter(HarmedParty):
    """The person harmed, who decides whether an interpreter helps them."""

    def open_consent(self) -> None:
        self.page.goto(f"/cases/{self.case.case_reference}/consent/")
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Your consent")

    def _interpreter_row(self):
        return self.page.locator("li[data-scope='interpreter']")

    def agree_to_an_interpreter(self) -> None:
        self.open_consent()
        self._interpreter_row().get_by_role("button", name="I agree").click()
        expect(self._interpreter_row()).to_contain_text("You have agreed to this.")

    def take_back_the_interpreter_consent(self) -> None:
        self.open_consent()
        self._interpreter_row().get_by_role("button", name="Take back my consent").click()
        expect(self._interpreter_row()).to_contain_text("You have not agreed to this.")


class Interpreter(Party):
    """An interpreter, signed in with their own name and phrase, reading the conversations of the person
    they help."""

    def open_conversation_of(self, pseudonym: str) -> None:
        self.open_case_messages()
        self.open_conversation(f"With {pseudonym}")

    def conversation_is_closed(self) -> None:
        expect(self.page.locator("[data-connection]")).to_have_attribute(
            "data-state", "closed", timeout=LIVE_SECONDS
        )

    def read_again(self, page: Page) -> int:
        response = page.reload()
        return response.status if response is not None else 0


@pytest.fixture
def seeded(mend_server, server_database_url, tmp_path_factory) -> dict:
    base = tmp_path_factory.getbasetemp()
    var_dirs = [d for d in base.glob("mend-var*") if not d.is_symlink() and (d / "server.log").exists()]
    assert len(var_dirs) == 1, f"expected the e2e server's one var dir, found {var_dirs}"
    env = servers.server_env(var_dirs[0], server_database_url)
    output = servers.run(
        [sys.executable, str(SEED), secrets.token_hex(3)], env, "Seeding an interpreter case"
    )
    return loads_last_line(output)


def test_an_interpreter_reads_while_the_person_agrees_and_is_out_the_moment_they_take_it_back(
    new_context, seeded
):
    case = DialogueCase.from_seed(seeded)
    sorrel = HarmedPartyWithInterpreter(new_context().new_page(), case)
    linden = Interpreter(new_context().new_page(), case, seeded["interpreter_sign_in"])
    words = "Please tell Linden I would like the next meeting in the afternoon."

    # Given Sorrel, the person harmed, signed in, who agrees to have an interpreter
    sorrel.sign_in()
    sorrel.agree_to_an_interpreter()

    # When she writes to her facilitator
    sorrel.open_conversation_with_facilitator()
    expect(sorrel.page.get_by_test_id("interpreter-present")).to_have_text(INTERPRETER_PRESENT)
    sorrel.write(words)

    # Then Linden, her interpreter, signs in and reads it, unlocked on Linden's own device
    linden.sign_in()
    linden.open_conversation_of(case.harmed_pseudonym)
    linden.sees_message(words)
    # And Linden can read but not write there
    expect(linden.page.get_by_test_id("cannot-write")).to_contain_text("Only the person you help")

    # When Sorrel takes the consent back
    sorrel.take_back_the_interpreter_consent()

    # Then Linden's open conversation closes at once, without Linden doing anything
    linden.conversation_is_closed()
    # And reading it again is a 404
    assert linden.read_again(linden.page) == 404
