"""The language guide's rules file, checked from Python: the browser reads the same file (guide.js), and
tests/e2e/test_language_guide_browser.py checks that both read every pattern the same way."""

import json
import re
from pathlib import Path

import pytest

RULES_PATH = Path(__file__).resolve().parents[2] / "mend" / "static" / "mend" / "language-guide.json"
RULES = json.loads(RULES_PATH.read_text(encoding="utf-8"))
KINDS = {"conditional", "blame", "minimising", "deflecting", "pressing"}
# Words the writer should not meet in a hint: labels for people, orders, and judgement.
UNWELCOME_IN_HINTS = ("victim", "offender", "perpetrator", "must", "wrong of you")
# Syntax that Python and JavaScript read differently, or that one of them lacks.
UNPORTABLE = {
    "(?<": "lookbehind or a named group",
    "(?P": "a Python named group",
    "(?>": "an atomic group",
    "*+": "a possessive quantifier",
    "++": "a possessive quantifier",
    "?+": "a possessive quantifier",
    "(?i": "an inline flag",
}


def compiled(rule: dict) -> re.Pattern:
    return re.compile(rule["pattern"], re.I)


def ids_matching(text: str) -> list[str]:
    return [rule["id"] for rule in RULES if compiled(rule).search(text)]


def by_id(rule: dict) -> str:
    return rule["id"]


def test_it_has_a_modest_number_of_rules_with_unique_ids():
    ids = [rule["id"] for rule in RULES]
    assert 15 <= len(ids) <= 25
    assert len(set(ids)) == len(ids)
    for rule in RULES:
        assert set(rule) == {"id", "kind", "pattern", "hint", "examples", "non_examples"}, rule["id"]
        assert rule["kind"] in KINDS, rule["id"]
        assert rule["examples"] and rule["non_examples"], rule["id"]


@pytest.mark.parametrize("rule", RULES, ids=by_id)
def test_it_compiles_every_pattern_in_python(rule):
    compiled(rule)


@pytest.mark.parametrize("rule", RULES, ids=by_id)
def test_it_keeps_to_syntax_that_javascript_reads_the_same_way(rule):
    pattern = rule["pattern"]
    assert "(?<" not in pattern, "no lookbehind, no named groups"
    for syntax, what in UNPORTABLE.items():
        assert syntax not in pattern, f"{rule['id']} uses {what}"
    # \w, \d and friends mean ASCII in JavaScript but Unicode in Python; \b and \s are safe for our text.
    escapes = set(re.findall(r"\\(.)", pattern))
    assert escapes <= {"b", "s"}, f"{rule['id']} uses \\{sorted(escapes - {'b', 's'})}"


@pytest.mark.parametrize("rule", RULES, ids=by_id)
def test_it_catches_every_example_with_its_own_rule(rule):
    pattern = compiled(rule)
    for example in rule["examples"]:
        assert pattern.search(example), f"{rule['id']} misses {example!r}"


@pytest.mark.parametrize("rule", RULES, ids=by_id)
def test_it_raises_no_false_alarm_on_any_non_example(rule):
    for text in rule["non_examples"]:
        assert ids_matching(text) == [], f"{text!r} (from {rule['id']})"


@pytest.mark.parametrize("phrase", ["sorry if", "but you", "it was only"])
def test_it_catches_the_phrases_from_the_issue(phrase):
    assert ids_matching(phrase)
    assert ids_matching(phrase.capitalize())
    assert ids_matching(f"I know that, {phrase.upper()} ...")


def test_it_stays_quiet_on_an_accountable_letter():
    letter = (
        "I'm sorry for what I did. I took photos of you without asking and shared them. It was not a joke, "
        "and they were not just pictures, they were you. None of this is your fault. I chose to do it. "
        "I made you feel unsafe and that was wrong. I am sorry. I know it was not only once. "
        "Take all the time you need, but you don't have to reply."
    )
    assert ids_matching(letter) == []


@pytest.mark.parametrize("rule", RULES, ids=by_id)
def test_it_words_every_hint_gently_and_briefly(rule):
    hint = rule["hint"]
    assert 0 < len(hint) <= 200, f"{rule['id']}: {len(hint)} characters"
    words = hint.lower()
    for unwelcome in UNWELCOME_IN_HINTS:
        assert unwelcome not in words, f"{rule['id']} says {unwelcome!r}"
    assert "!" not in hint, "no urgency"
