"""Every visible word on every page is marked for translation: each page of the permission matrix, as each
role that may see it, rendered in the pseudo-locale (tests/i18n/pseudo.py), shows no text node, and no
visible attribute, that the pseudo-locale did not transform. Data (pseudonyms, names, codes, numbers, dates,
what people wrote) is told apart by its source: the database's own values, and a few patterns below."""

import re
from contextlib import ExitStack
from html.parser import HTMLParser

import pycountry
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction
from django.test import override_settings

from mend.accounts.models import User
from tests.builders import FAST_HASHERS, build_cast
from tests.i18n import pseudo
from tests.test_permission_matrix import PAGE_CALLS, PAGE_MATRIX, ROLES, build_extra, client_for

VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "aria-description")
# What a textarea holds is data the person edits (a program's questions, with their ids and section codes).
SKIPPED_ELEMENTS = {"script", "style", "textarea"}
# Data, not interface words: case, conversation and item codes; numbers, sizes, dates and times; time-zone
# names; addresses; ids and keys (long runs of letters and digits); Mend's own name.
DATA_PATTERNS = [
    # Whole texts first (an alternation tries its patterns in order at each place):
    # A time zone in plain words: the IANA city (no catalogue translates those) and pycountry's country name.
    r"^.+ \(UTC[+-]\d\d:\d\d\)$",
    r"^[A-Z]{3}$",  # an ISO currency code
    r"\b[A-Z]-[A-Z0-9]{4}-[A-Z0-9]{4}\b",
    r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b",
    r"https?://\S+",
    r"\b[A-Z][A-Za-z_]+/[A-Za-z_/ +-]+",
    r"\b(UTC|GMT|Mend|KB|MB|MiB|PDF|ICS|CSV|JSON|API|OpenAPI|TOTP|[ap]\.m\.|AM|PM)\b",
    r"\b(Jan(uary)?|Feb(ruary)?|Mar(ch)?|Apr(il)?|May|June?|July?|Aug(ust)?|Sept?(ember)?|Oct(ober)?"
    r"|Nov(ember)?|Dec(ember)?)\b\.?",
    r"\b(Mon|Tues?|Wed(nes)?|Thu(rs)?|Fri|Sat(ur)?|Sun)(day)?\b",
    r"\b(?=\w*\d)\w{6,}\b",
    r"\b[A-Z]{2}(-[A-Z0-9]{1,3})?\b",
    r"[\d.,:/%+-]+",
]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIPPED_ELEMENTS:
            self._skip += 1
        for name in VISIBLE_ATTRIBUTES:
            if attrs.get(name):
                self.found.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.found.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.found.append(data.strip())


def _strings_in(value):
    if isinstance(value, str):
        yield value.strip()
    elif isinstance(value, dict | list):
        for inner in value.values() if isinstance(value, dict) else value:
            yield from _strings_in(inner)


def _database_strings() -> list[str]:
    """Every text value the cast's database holds: pseudonyms, names, titles, what people wrote."""
    found = set()
    kinds = models.CharField | models.TextField | models.JSONField
    for model in apps.get_models():
        fields = [f.name for f in model._meta.fields if isinstance(f, kinds) and not f.choices]
        for row in model.objects.values_list(*fields) if fields else ():
            found.update(s for value in row for s in _strings_in(value) if len(s) > 1)
    return sorted(found, key=len, reverse=True)


# Data sealed at rest, so not in the scan above: the matrix's agreement item and the case's referral.
SEALED_DATA = ["Pay back the cost of the phone.", "A receipt.", "Monthly", "Referral from the cyber unit."]


def _names_from_elsewhere() -> list[str]:
    """Words whose translations come from elsewhere: each interface language in its own name, and the ISO
    language names (pycountry's own catalogues translate them; it has none for the pseudo-locale)."""
    names = [name for _code, name in settings.LANGUAGES]
    names += [lang.name for lang in pycountry.languages]
    return sorted(set(names), key=len, reverse=True)


class Checker:
    """A text is left untransformed when, once the translated spans (⟦…⟧, or the part of one a tag cut off)
    and the data are taken out, a word of plain ASCII letters is left: a translated word always carries an
    accent (every vowel, y, c and n are marked), so one without any came from outside the catalogues."""

    def __init__(self, exempt: list[str]):
        whole = [rf"(?<![\w]){re.escape(s)}(?![\w])" for s in exempt]
        self._data = re.compile("|".join(DATA_PATTERNS + whole))

    def untransformed(self, text: str) -> bool:
        text = re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
        text = re.sub(r"^[^⟦]*⟧|⟦[^⟧]*$", " ", text)  # the ends of a span cut by a tag
        text = self._data.sub(" ", text)
        words = re.findall(r"[^\W\d_]{2,}", text)
        return any(not (pseudo.MARKS & set(word)) and word.isascii() for word in words)


@pytest.fixture(scope="module")
def pseudo_world(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = pseudo.build(tmp_path_factory.mktemp("locale"))
    languages = [*settings.LANGUAGES, (pseudo.CODE, "Pseudo")]
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=FAST_HASHERS, LANGUAGES=languages, LOCALE_PATHS=[folder, *settings.LOCALE_PATHS]
        ),
        ExitStack() as stack,
    ):
        for alias in connections:
            stack.enter_context(transaction.atomic(using=alias))
        made = build_cast()
        rows = build_extra(made)
        User.objects.update(language=pseudo.CODE)
        yield made, rows, Checker(_database_strings() + _names_from_elsewhere() + SEALED_DATA)
        for alias in connections:
            transaction.set_rollback(True, using=alias)


def _pages():
    # The API's own pages (its OpenAPI descriptions) may stay in English (issue 17).
    return [key for key in PAGE_MATRIX if key[1] == "GET" and not key[0].startswith("api:")]


@pytest.mark.parametrize("key", _pages(), ids=lambda key: key[0])
def test_every_visible_text_on_the_page_is_translated(pseudo_world, db, key):
    cast, extra, checker = pseudo_world
    left = []
    for role in ROLES:
        call = PAGE_CALLS[key](cast, extra, cast.case.reference)
        client = client_for(cast, role)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = pseudo.CODE  # for whoever is not signed in
        response = call.send(client)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Text()
        parser.feed(response.content.decode())
        left += [f"{role}: {text!r}" for text in parser.found if checker.untransformed(text)]
    assert not left, (
        f"{key[0]}: text not marked for translation, or marked but not yet in the catalogues (run make "
        "messages):\n" + "\n".join(sorted(set(left)))
    )


def test_the_checker_catches_an_unmarked_sentence_and_passes_data_and_marked_words():
    checker = Checker(["Heron", "Se", "en"])
    assert checker.untransformed("Nothing is waiting for you")
    assert checker.untransformed("Heron has left")
    assert not checker.untransformed(pseudo.transform("Nothing is waiting for you"))
    assert not checker.untransformed("Heron")
    assert not checker.untransformed("C-88YW-XEET · 7 Dec 2026, 03:09 · Pacific/Auckland")
    # A marked span does not clear the words around it, and data is taken out only as whole words.
    assert checker.untransformed(pseudo.transform("You") + " have 2 new messages")
    assert checker.untransformed("Send")
    assert checker.untransformed("Maybe later")  # a month's name exempts only itself
    assert not checker.untransformed("thé téxt")  # the middle of a translated string a tag cut in two


def test_the_pseudo_locale_keeps_placeholders_tags_and_entities():
    marked = pseudo.transform('Hi <a href="/x">%(name)s</a> &amp; {n}')
    assert marked == '⟦Hí <a href="/x">%(name)s</a> &amp; {n}⟧'
    assert pseudo.transform(" Send ") == " ⟦Séñd⟧ "
