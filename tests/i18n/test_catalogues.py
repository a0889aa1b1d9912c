"""The translations are complete and made from today's code: every language's catalogues (Django's and the
browser modules') pass `msgfmt --check` with nothing untranslated or fuzzy, hold exactly the words the code
has, and every sentence in a browser module goes through gettext."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LOCALE = Path(settings.LOCALE_PATHS[0])
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
DOMAINS = ["django", "djangojs"]
MODULES = Path(settings.BASE_DIR) / "mend" / "static" / "mend"


def _msgfmt():
    path = shutil.which("msgfmt")
    if path is None:
        pytest.fail("msgfmt is missing: `make install` installs Debian's gettext")
    return path


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_is_complete_and_passes_msgfmt_check(language, domain):
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    run = subprocess.run(
        [_msgfmt(), "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C"},
    )
    assert run.returncode == 0, run.stderr
    statistics = run.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ translated messages\.", statistics), f"{po}: {statistics}"


def _msgids(po_path: Path) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in polib.pofile(str(po_path)) if not e.obsolete}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What `make messages` would extract from today's code, written to a copy, never to mend/locale."""
    copy = tmp_path_factory.mktemp("extract") / "mend"
    shutil.copytree(
        Path(settings.BASE_DIR) / "mend",
        copy,
        ignore=shutil.ignore_patterns("locale", "jsi18n", "__pycache__", "*.pyc"),
    )
    locale = copy / "locale"
    locale.mkdir()
    with override_settings(LOCALE_PATHS=[locale]):
        cwd = Path.cwd()
        try:
            os.chdir(copy)
            for domain in DOMAINS:
                call_command(
                    "makemessages",
                    locale=["es"],
                    domain=domain,
                    verbosity=0,
                    ignore_patterns=["static/jsi18n/*"],
                )
        finally:
            os.chdir(cwd)
    return {domain: _msgids(locale / "es" / "LC_MESSAGES" / f"{domain}.po") for domain in DOMAINS}


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_holds_exactly_the_words_of_todays_code(extracted, language, domain):
    held = _msgids(LOCALE / language / "LC_MESSAGES" / f"{domain}.po")
    missing, stale = extracted[domain] - held, held - extracted[domain]
    assert not missing and not stale, (
        f"run `make messages`, then translate: {language}/{domain} lacks {sorted(missing)[:10]} "
        f"and still holds {sorted(stale)[:10]}"
    )


# A sentence in a browser module: a string literal starting with a capital letter and holding a space, or
# ending like a sentence. Technical words (key names, element names) start lower-case and do not end so.
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|`([^`]*)`')
# A single capitalised word counts too ("You", "Someone"), and an English phrase glued to a name
# (`${name}, facilitator`).
_SENTENCE = re.compile(
    r"^[A-Z][a-z]+[ ,].*[a-z]|[a-z]{2,}[.?!…]$|\b[a-z]+ [a-z]+ [a-z]+ [a-z]+\b"
    r"|^[A-Z][a-z]{2,}$|^\$\{\w+(\(\w*\))?\}, [a-z]+"
)
# Inside gettext( or ngettext("…", (or continuing one with +); or words for developers only (the console, an
# Error that is never shown: the page shows a coded failure's words from messages.js instead).
_MARKED_OR_FOR_DEVELOPERS = re.compile(
    r'(gettext\(|ngettext\(\s*"(?:[^"\\]|\\.)*",|\+|console\.\w+\(|new Error\(|\.key [!=]==)\s*$'
)
_COMMENT = re.compile(r"^\s*//[^\n]*$|/\*.*?\*/", re.M | re.S)


def _sentences_outside_gettext(source: str) -> list[str]:
    source = _COMMENT.sub(lambda comment: "\n" * comment.group(0).count("\n"), source)
    found = []
    for match in _LITERAL.finditer(source):
        text = match.group(1) if match.group(1) is not None else match.group(2)
        before = source[max(0, match.start() - 300) : match.start()]
        if _SENTENCE.search(text) and not _MARKED_OR_FOR_DEVELOPERS.search(before):
            line = source[: match.start()].count("\n") + 1
            found.append(f"line {line}: {text[:80]}")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in MODULES.glob("*.js")))
def test_every_sentence_in_a_browser_module_goes_through_gettext(module):
    assert not _sentences_outside_gettext((MODULES / module).read_text()), module


def test_the_scan_finds_an_unmarked_sentence_and_passes_a_marked_one():
    assert _sentences_outside_gettext('status.textContent = "Sent. Thank you.";')
    assert _sentences_outside_gettext("say(`${name} has left.`);")
    assert not _sentences_outside_gettext('status.textContent = gettext("Sent. Thank you.");')
    assert not _sentences_outside_gettext('gettext(\n  "Sign out, " +\n    "then sign in again.",\n)')
    assert not _sentences_outside_gettext('unb64u(value, 32, "file key")')
    assert _sentences_outside_gettext('const ask = "ask your facilitator now";')
    assert _sentences_outside_gettext('return names[id] || "Someone";')
    assert _sentences_outside_gettext("const name = `${nameOf(id)}, facilitator`;")
    assert not _sentences_outside_gettext('if (event.key !== "Escape") return;')
    assert not _sentences_outside_gettext('ngettext(\n  "One file.",\n  "Many files.",\n  n,\n)')
    assert not _sentences_outside_gettext('console.warn("Signal failed", error);')
    assert not _sentences_outside_gettext('// Say "Hello there." here\nconst x = 1;')


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_browser_catalogue_of_each_language_is_built(language):
    built = Path(settings.STATICI18N_ROOT) / settings.STATICI18N_OUTPUT_DIR / language / "djangojs.js"
    assert built.exists(), "run `make install`, which builds the browser catalogues"
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "djangojs.po"))
    entry = next(e for e in po if e.msgstr)
    assert json.dumps(entry.msgstr) in built.read_text(), "the browser catalogue is older than its .po"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_translation_says_victim_or_offender_in_any_language(language, domain):
    from mend.accounts.services import never_on_screen

    said = {
        (entry.msgid[:50], word)
        for entry in polib.pofile(str(LOCALE / language / "LC_MESSAGES" / f"{domain}.po"))
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        for word in never_on_screen(text)
    }
    assert said == set()


def test_a_program_cannot_choose_such_a_word_inside_a_longer_one():
    from mend.accounts.services import never_on_screen

    assert never_on_screen("la víctima") == {"víctima"}
    assert never_on_screen("الشخص الضحية") == {"الضحية"}
    assert never_on_screen("person harmed") == set()
