"""The language guide in a real browser: guide.js reads the rules exactly as Python's `re` does, shows its
hints only on the writer's page, and never sends the draft anywhere."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.navigators import CspWatcher

pytestmark = pytest.mark.e2e

RULES_PATH = Path(__file__).resolve().parents[2] / "mend" / "static" / "mend" / "language-guide.json"
RULES = json.loads(RULES_PATH.read_text(encoding="utf-8"))
GUIDE = "/static/mend/guide.js"
# Beyond the rules' own examples: mixed case, curly apostrophes, and several hints in one draft.
EXTRA_TEXTS = [
    "SORRY IF",
    "I’m sorry if I’ve upset you, but you know it was only a joke",
    "It wasn’t that big a deal and you’re overreacting",
    "",
]


def python_ids(text: str) -> set[str]:
    return {rule["id"] for rule in RULES if re.compile(rule["pattern"], re.I).search(text)}


class Writer:
    """Someone writing to the person they harmed, with the guide beside their draft."""

    def __init__(self, page: Page):
        self.page = page
        self.draft = page.locator("#guide-draft")
        self.notes = page.locator("#guide-notes")

    def open_a_page_of_mend(self) -> None:
        self.page.goto("/account/sign-in/")

    def ids_the_guide_finds(self, texts: list[str]) -> list[list[str]]:
        return self.page.evaluate(
            """async ([guidePath, texts]) => {
                const guide = await import(guidePath);
                const rules = await guide.loadRules();
                return texts.map((text) => guide.hintsFor(text, rules).map((hint) => hint.id));
            }""",
            [GUIDE, texts],
        )

    def start_a_draft_with_the_guide(self) -> None:
        self.page.evaluate(
            """async (guidePath) => {
                const guide = await import(guidePath);
                const draft = document.createElement("textarea");
                draft.id = "guide-draft";
                draft.setAttribute("aria-label", "Your letter");
                const notes = document.createElement("div");
                notes.id = "guide-notes";
                notes.setAttribute("aria-live", "polite");
                document.querySelector("main").append(draft, notes);
                guide.attachGuide(draft, notes, await guide.loadRules());
            }""",
            GUIDE,
        )

    def type(self, text: str) -> None:
        self.draft.press_sequentially(text, delay=15)

    def clear_the_draft(self) -> None:
        self.draft.fill("")


@pytest.fixture
def writer(new_context) -> Writer:
    page = new_context().new_page()
    return Writer(page)


def test_it_reads_every_rule_in_the_browser_as_python_does(writer):
    # Given a page of the real server, under its real Content-Security-Policy
    csp = CspWatcher(writer.page)
    writer.open_a_page_of_mend()

    # When guide.js checks every example and non-example in the rules file
    texts = [text for rule in RULES for text in rule["examples"] + rule["non_examples"]] + EXTRA_TEXTS
    found = writer.ids_the_guide_finds(texts)

    # Then it finds exactly the rules Python's re finds, for every one of them
    differences = {
        text: {"javascript": sorted(js), "python": sorted(python_ids(text))}
        for text, js in zip(texts, found, strict=True)
        if set(js) != python_ids(text)
    }
    assert differences == {}
    # And each rule is given once, in the order its words appear
    assert found[-3] == [
        "conditional-sorry-if",
        "blame-but-you",
        "minimising-it-was-only",
        "minimising-just-a-joke",
    ]
    assert csp.violations == []


def test_it_shows_the_writer_a_hint_and_sends_nothing_while_they_type(writer):
    # Given someone writing a letter, with the guide attached to their draft
    writer.open_a_page_of_mend()
    writer.start_a_draft_with_the_guide()
    expect(writer.notes).to_be_empty()
    requests: list[Request] = []

    def record(request: Request) -> None:
        requests.append(request)

    writer.page.on("request", record)

    # When they write an apology that depends on "if"
    writer.type("I'm sorry if you were upset")

    # Then, once they pause, the guide quotes their words and offers another way to say it
    hint = next(rule["hint"] for rule in RULES if rule["id"] == "conditional-sorry-if")
    expect(writer.notes).to_contain_text(hint)
    expect(writer.notes.locator("q")).to_have_text(["sorry if"])
    expect(writer.notes).to_contain_text("Only you can see these notes.")

    # When they take the words out again
    writer.clear_the_draft()
    writer.type("I'm sorry for what I did.")

    # Then the guide has nothing to say
    expect(writer.notes).to_be_empty()

    # And nothing was sent while they typed: not the draft, not anything else
    writer.page.wait_for_timeout(500)  # longer than the guide's pause, so any late request would show
    writer.page.remove_listener("request", record)
    assert [request.url for request in requests] == []
