"""One set of date formats, in each language (mend/formats): templates name a format, never a pattern of their
own, except the machine-readable ones in `datetime` attributes."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import formats, translation

TEMPLATES = Path(settings.BASE_DIR) / "mend" / "templates"
NAMED = {"DATE_FORMAT", "SHORT_DATETIME_FORMAT", "DATETIME_FORMAT", "TIME_FORMAT"}
MACHINE = {"c", "Y-m-d"}  # for <time datetime="…"> and date inputs, never read by people
AT = datetime.datetime(2026, 12, 7, 15, 9, tzinfo=datetime.UTC)


def test_templates_show_dates_only_in_the_named_formats():
    used = {
        (path.relative_to(TEMPLATES), pattern)
        for path in TEMPLATES.rglob("*.html")
        for pattern in re.findall(r"\|date:[\"']([^\"']+)[\"']", path.read_text())
    }
    assert {(path, pattern) for path, pattern in used if pattern not in NAMED | MACHINE} == set()


@pytest.mark.parametrize(
    ("language", "short", "long"),
    [
        ("en", "7 Dec 2026, 15:09", "Monday 7 December 2026, 15:09"),
        ("es", "7 Dic 2026, 15:09", "lunes 7 de diciembre de 2026, 15:09"),
        ("fr", "7 Déc 2026, 15:09", "lundi 7 décembre 2026, 15:09"),
        ("ar", "7 ديسمبر 2026، 15:09", "الاثنين 7 ديسمبر 2026، 15:09"),
    ],
)
def test_each_language_writes_the_same_formats_in_its_own_words(language, short, long):
    with translation.override(language):
        assert formats.date_format(AT, "SHORT_DATETIME_FORMAT") == short
        assert formats.date_format(AT, "DATETIME_FORMAT") == long


def test_a_language_without_formats_of_its_own_falls_back_to_mends_not_djangos():
    """Django's own fallback writes "noon" and "midnight" in English (a page in the pseudo-locale showed
    "Dec. 7, 2026, noon" when CI ran at 12:00)."""
    noon = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)
    with translation.override("xx"):
        assert formats.date_format(noon, "SHORT_DATETIME_FORMAT") == "7 Dec 2026, 12:00"
        assert formats.date_format(noon, "DATETIME_FORMAT") == "Monday 7 December 2026, 12:00"
        assert formats.date_format(noon, "TIME_FORMAT") == "12:00"
        assert formats.date_format(noon, "SHORT_DATE_FORMAT") == "7 Dec 2026"
