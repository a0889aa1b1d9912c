"""The language guide's rules, one file per language, checked from Python: the browser reads the same files
(guide.js), and tests/e2e/test_language_guide_browser.py checks that both read every pattern the same way."""

import json
import re
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings

RULES_DIR = Path(__file__).resolve().parents[2] / "mend" / "static" / "mend" / "language-guide"
RULES = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(RULES_DIR.glob("*.json"))}
LANGUAGES = sorted(RULES)
KINDS = {"conditional", "blame", "minimising", "deflecting", "pressing"}
# Words the writer should not meet in a hint: labels for people, orders, and judgement.
UNWELCOME_IN_HINTS = {
    "en": ("victim", "offender", "perpetrator", "must", "wrong of you"),
    "es": ("víctima", "agresor", "ofensor", "culpable", "debes", "tienes que"),
    "fr": ("victime", "agresseur", "coupable", "vous devez", "il faut"),
    "ar": ("ضحية", "الضحية", "الجاني", "جاني", "المعتدي", "يجب عليك", "لازم"),
}
# Syntax that Python and JavaScript read differently, or that one of them lacks. Lookbehind is allowed, as
# long as Python accepts it (which means a fixed width): an older browser that lacks it skips only that rule.
UNPORTABLE = {
    "(?P": "a Python named group",
    "(?>": "an atomic group",
    "*+": "a possessive quantifier",
    "++": "a possessive quantifier",
    "?+": "a possessive quantifier",
    "(?i": "an inline flag",
}
NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
# \b knows only ASCII letters in JavaScript, every letter in Python: it may not touch an accented or Arabic
# one.
NON_ASCII = "[^\x00-\x7f]"
B_BESIDE_NON_ASCII = re.compile(
    rf"\\b(?:{NON_ASCII}|\[[^\]]*{NON_ASCII})|(?:{NON_ASCII}|\[[^\]]*{NON_ASCII}[^\]]*\])\\b"
)
ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# The same plain form guide.js reads (plainText): composed accents; no Arabic short-vowel marks or tatweel.
ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
# Three phrases in each language that the issue's English ones stand for, and a letter that takes
# responsibility, which must raise nothing.
PHRASES = {
    "en": ["sorry if", "but you", "it was only"],
    "es": ["lo siento si", "pero tú", "fue solo una"],
    "fr": ["désolé si", "mais tu", "ce n'était qu'une"],
    "ar": ["آسف إذا", "لكنك", "مجرد مزحة"],
}
LETTERS = {
    "en": (
        "I'm sorry for what I did. I took photos of you without asking and shared them. It was not a joke, "
        "and they were not just pictures, they were you. None of this is your fault. I chose to do it. "
        "I made you feel unsafe and that was wrong. I am sorry. I know it was not only once. "
        "Take all the time you need, but you don't have to reply."
    ),
    "es": (
        "Siento mucho lo que hice. Te hice fotos sin preguntarte y las compartí. No fue una broma, "
        "y no eran solo fotos: eran tú. Nada de esto es tu culpa. Yo elegí hacerlo. "
        "Te hice sentir insegura y estuvo mal. Lo siento. Sé que no fue solo una vez. "
        "Tómate el tiempo que necesites, pero tú no tienes que responder. No tienes que perdonarme."
    ),
    "fr": (
        "Je suis désolé pour ce que j'ai fait. J'ai pris des photos de toi sans te demander et je les "
        "ai partagées. Ce n'était pas une blague, et ce n'étaient pas juste des photos : c'était toi. "
        "Rien de tout ça n'est ta faute. J'ai choisi de le faire. Je t'ai fait sentir en danger et c'était "
        "mal. Je suis désolé. Je sais que ce n'était pas qu'une fois. Prends tout le temps qu'il te faut, "
        "mais tu n'as pas à répondre. Tu n'as pas à me pardonner."
    ),
    "ar": (
        "أنا آسف على ما فعلته. التقطت صورا لك دون أن أسألك ونشرتها. لم تكن مزحة، ولم تكن مجرد صور، كانت أنتِ. "
        "لا شيء من هذا ذنبك. أنا اخترت أن أفعل ذلك. جعلتك تشعرين بعدم الأمان وكان ذلك خطأ. أنا آسف. "
        "خذي كل الوقت الذي تحتاجينه، ولست مضطرة للرد. ليس عليك أن تسامحيني."
    ),
}
# Examples that cannot keep their meaning without accents: "pero tu" is also "but your".
NEEDS_ITS_ACCENTS = {("es", "blame-but-you", "pero tú")}


def plain(text: str) -> str:
    return ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text))


def without_accents(text: str) -> str:
    """How people often type: no accents, no cedilla, and Arabic without its hamza or madda."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def compiled(rule: dict) -> re.Pattern:
    return re.compile(rule["pattern"], re.I)


def ids_matching(language: str, text: str) -> list[str]:
    return [rule["id"] for rule in RULES[language] if compiled(rule).search(plain(text))]


def every_rule() -> list:
    pairs = [(language, rule) for language in LANGUAGES for rule in RULES[language]]
    return [pytest.param(language, rule, id=f"{language}:{rule['id']}") for language, rule in pairs]


def test_it_has_rules_for_english_spanish_french_and_arabic_and_only_for_languages_mend_offers():
    assert {"en", "es", "fr", "ar"} <= set(LANGUAGES)
    assert set(LANGUAGES) <= {code for code, _ in settings.LANGUAGES}
    assert not (RULES_DIR.parent / "language-guide.json").exists(), "one copy of the English rules: en.json"


def test_it_knows_for_every_language_its_phrases_its_letter_and_the_words_hints_avoid():
    # A new rules file needs these three here too (docs/languages.md)
    assert set(PHRASES) == set(LETTERS) == set(UNWELCOME_IN_HINTS) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_a_modest_number_of_rules_of_every_kind_with_unique_ids(language):
    rules = RULES[language]
    ids = [rule["id"] for rule in rules]
    assert (15 if language == "en" else 12) <= len(ids) <= 30
    assert len(set(ids)) == len(ids)
    assert {rule["kind"] for rule in rules} == KINDS, "every kind the English rules have"
    for rule in rules:
        assert set(rule) == {"id", "kind", "pattern", "hint", "examples", "non_examples"}, rule["id"]
        assert rule["kind"] in KINDS, rule["id"]
        assert rule["examples"] and rule["non_examples"], rule["id"]


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_compiles_every_pattern_in_python(language, rule):
    compiled(rule)


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_keeps_to_syntax_that_javascript_reads_the_same_way(language, rule):
    pattern = rule["pattern"]
    assert not NAMED_GROUP.search(pattern), "no named groups"
    for syntax, what in UNPORTABLE.items():
        assert syntax not in pattern, f"{rule['id']} uses {what}"
    # \w, \d and friends mean ASCII in JavaScript but Unicode in Python; \b and \s are safe for our text.
    escapes = set(re.findall(r"\\(.)", pattern))
    assert escapes <= {"b", "s"}, f"{rule['id']} uses \\{sorted(escapes - {'b', 's'})}"
    assert not B_BESIDE_NON_ASCII.search(pattern), f"{rule['id']}: \\b beside a letter JavaScript lacks"
    if ARABIC_LETTER.search(pattern):
        assert "\\b" not in pattern, f"{rule['id']}: Arabic words are bounded with lookarounds, not \\b"
    assert unicodedata.normalize("NFC", pattern) == pattern, "written in the plain form the guide reads"
    assert not ARABIC_MARKS.search(pattern), "written in the plain form the guide reads"


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_catches_every_example_with_its_own_rule(language, rule):
    pattern = compiled(rule)
    for example in rule["examples"]:
        assert pattern.search(plain(example)), f"{rule['id']} misses {example!r}"


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_catches_every_example_typed_without_accents_and_with_either_apostrophe(language, rule):
    pattern = compiled(rule)
    for example in rule["examples"]:
        variants = {example.replace("'", "’"), example.replace("’", "'"), example.upper()}
        if (language, rule["id"], example) not in NEEDS_ITS_ACCENTS:
            variants.add(without_accents(example))
        for variant in variants:
            assert pattern.search(plain(variant)), f"{rule['id']} misses {variant!r}"


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_quotes_whole_words_back_to_the_writer(language, rule):
    pattern = compiled(rule)
    for example in rule["examples"]:
        text = plain(example)
        start, end = pattern.search(text).span()
        before, first, last, after = text[start - 1 : start], text[start], text[end - 1], text[end : end + 1]
        assert not (before.isalpha() and first.isalpha()), f"{rule['id']} starts inside a word of {example!r}"
        assert not (last.isalpha() and after.isalpha()), f"{rule['id']} ends inside a word of {example!r}"


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_raises_no_false_alarm_on_any_non_example(language, rule):
    for text in rule["non_examples"]:
        assert ids_matching(language, text) == [], f"{text!r} (from {rule['id']})"


@pytest.mark.parametrize(("language", "phrase"), [(lang, text) for lang in PHRASES for text in PHRASES[lang]])
def test_it_catches_the_phrases_from_the_issue_in_every_language(language, phrase):
    assert ids_matching(language, phrase)
    assert ids_matching(language, phrase.capitalize())
    assert ids_matching(language, f"… {phrase.upper()} ...")


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_stays_quiet_on_an_accountable_letter(language):
    assert ids_matching(language, LETTERS[language]) == []


def test_it_reads_arabic_with_or_without_its_short_vowel_marks():
    assert ids_matching("ar", "أنتِ تُبالِغِين") == ids_matching("ar", "أنت تبالغين") == ["blame-overreacting"]
    assert ids_matching("ar", "كانت مجرد مـزحة") == ["minimising-just-a-joke"]


@pytest.mark.parametrize(("language", "rule"), every_rule())
def test_it_words_every_hint_gently_and_briefly_in_the_rules_own_language(language, rule):
    hint = rule["hint"]
    assert 0 < len(hint) <= 200, f"{rule['id']}: {len(hint)} characters"
    words = hint.lower()
    for unwelcome in UNWELCOME_IN_HINTS[language]:
        assert unwelcome not in words, f"{rule['id']} says {unwelcome!r}"
    assert not {"!", "¡", "！"} & set(hint), "no urgency"
    assert bool(ARABIC_LETTER.search(hint)) == (language == "ar")
    if language != "en":
        assert hint not in {english["hint"] for english in RULES["en"]}
