"""The language guide in a real browser: guide.js reads every language's rules exactly as Python's `re` does,
picks the rules of the language the writer's page is in, shows its hints only on the writer's page, and never
sends the draft anywhere."""

import unicodedata

import pytest
from playwright.sync_api import Page, Request, expect

from tests.dialogue.test_language_guide import LANGUAGES, LETTERS, RULES, ids_matching, without_accents
from tests.e2e.navigators import CspWatcher

pytestmark = pytest.mark.e2e

GUIDE = "/static/mend/guide.js"
# Beyond the rules' own examples: mixed case, curly apostrophes, and several hints in one draft.
EXTRA_TEXTS = {
    "en": [
        "SORRY IF",
        "I’m sorry if I’ve upset you, but you know it was only a joke",
        "It wasn’t that big a deal and you’re overreacting",
        "",
    ],
    "es": ["Lo siento si te molesté, pero tú sabías que era solo una broma", "ESTÁS EXAGERANDO"],
    "fr": ["Désolé si je t’ai blessée, mais tu sais que c’était juste une blague", "TU EXAGÈRES"],
    "ar": ["أنا آسف إذا زعلتك، لكنك تعرفين أنها كانت مجرد مزحة", "أنتِ تُبالِغِين"],
}


def texts_for(language: str) -> list[str]:
    """Every example and non-example, as written and as people also type them: without accents, in capitals,
    with decomposed accents, with the other apostrophe."""
    texts = []
    for rule in RULES[language]:
        for text in rule["examples"] + rule["non_examples"]:
            texts += [text, without_accents(text), text.upper(), unicodedata.normalize("NFD", text)]
            texts.append(text.replace("'", "’"))
    return [*texts, LETTERS[language], *EXTRA_TEXTS[language]]


def python_ids(language: str, text: str) -> set[str]:
    return set(ids_matching(language, text))


class Writer:
    """Someone writing to the person they harmed, with the guide beside their draft."""

    def __init__(self, page: Page):
        self.page = page
        self.draft = page.locator("#guide-draft")
        self.notes = page.locator("#guide-notes")

    def open_a_page_of_mend(self) -> None:
        self.page.goto("/account/sign-in/")

    def ids_the_guide_finds(self, language: str, texts: list[str]) -> list[list[str]]:
        return self.page.evaluate(
            """async ([guidePath, language, texts]) => {
                const guide = await import(guidePath);
                const rules = await guide.loadRules(language);
                return texts.map((text) => guide.hintsFor(text, rules).map((hint) => hint.id));
            }""",
            [GUIDE, language, texts],
        )

    def patterns_the_browser_cannot_read(self, language: str) -> list[str]:
        return self.page.evaluate(
            """async ([guidePath, language]) => {
                const guide = await import(guidePath);
                const unread = [];
                for (const rule of await guide.loadRules(language)) {
                    try { new RegExp(rule.pattern, "iu"); } catch { unread.push(rule.id); }
                }
                return unread;
            }""",
            [GUIDE, language],
        )

    def write_in(self, language: str) -> None:
        """The page is in the writer's language (Mend sets <html lang> from it)."""
        self.page.evaluate("(language) => { document.documentElement.lang = language; }", language)

    def rule_ids_chosen_for_the_page(self) -> list[str]:
        return self.page.evaluate(
            """async (guidePath) => {
                const guide = await import(guidePath);
                return (await guide.loadRules()).map((rule) => rule.id);
            }""",
            GUIDE,
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


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_reads_every_rule_in_the_browser_as_python_does(writer, language):
    # Given a page of the real server, under its real Content-Security-Policy
    csp = CspWatcher(writer.page)
    writer.open_a_page_of_mend()

    # When guide.js checks every example and non-example in the language's rules, as typed in several ways
    assert writer.patterns_the_browser_cannot_read(language) == []
    texts = texts_for(language)
    found = writer.ids_the_guide_finds(language, texts)

    # Then it finds exactly the rules Python's re finds, for every one of them
    differences = {
        text: {"javascript": sorted(js), "python": sorted(python_ids(language, text))}
        for text, js in zip(texts, found, strict=True)
        if set(js) != python_ids(language, text)
    }
    assert differences == {}
    # And each rule is given once, in the order its words appear
    if language == "en":
        assert found[-3] == [
            "conditional-sorry-if",
            "blame-but-you",
            "minimising-it-was-only",
            "minimising-just-a-joke",
        ]
    assert csp.violations == []


def test_it_chooses_the_rules_of_the_language_the_writers_page_is_in(writer):
    # Given a page of Mend
    writer.open_a_page_of_mend()
    ids = {language: [rule["id"] for rule in RULES[language]] for language in LANGUAGES}
    requested: list[str] = []
    writer.page.on("request", lambda request: requested.append(request.url))

    # When the writer's page is in Spanish, in Canadian French, or in Arabic, the guide reads those rules
    for page_language, rules_language in [("es", "es"), ("fr-CA", "fr"), ("ar", "ar"), ("en", "en")]:
        writer.write_in(page_language)
        assert writer.rule_ids_chosen_for_the_page() == ids[rules_language], page_language

    # When it is in a language that has no rules yet, the guide falls back to the English ones
    writer.write_in("de")
    assert writer.rule_ids_chosen_for_the_page() == ids["en"]

    # And it asked for each file once, and for German's only to find there is none
    guide_files = [url.rsplit("/", 1)[-1] for url in requested if "/language-guide/" in url]
    assert sorted(guide_files) == ["ar.json", "de.json", "en.json", "es.json", "fr.json"]


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
    hint = next(rule["hint"] for rule in RULES["en"] if rule["id"] == "conditional-sorry-if")
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


def test_it_shows_a_spanish_writer_their_hint_in_spanish(writer):
    # Given someone who writes in Spanish, with the guide attached to their draft
    writer.open_a_page_of_mend()
    writer.write_in("es")
    writer.start_a_draft_with_the_guide()

    # When they write an apology that depends on "si"
    writer.type("Lo siento si te molesté")

    # Then the guide quotes their words and offers, in Spanish, another way to say it
    hint = next(rule["hint"] for rule in RULES["es"] if rule["id"] == "conditional-sorry-if")
    expect(writer.notes).to_contain_text(hint)
    expect(writer.notes.locator("q")).to_have_text(["Lo siento si"])
