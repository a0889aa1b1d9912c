"""The agreement's PDF and calendar in the reader's language: headings and titles translated, and Arabic
laid out right to left in a font that has its letters (Noto), extracted in reading order."""

import logging
from io import BytesIO

import icalendar
import pytest
from django.utils import formats, translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from mend.accounts.models import User
from mend.agreements import exports, pdf_text, selectors, services
from tests.agreements.test_exports import (
    check_ins_for,
    draft_with_items,
    pages_of,
    signed_version,
    text_of,
)

HEADINGS = ("Agreement", "What everyone agrees", "Commitments", "Signatures")
ARABIC_TERMS = (
    "نتفق على أن نحترم بعضنا وأن نتواصل دائما من خلال الميسر، وأن نلتزم بكل ما اتفقنا عليه في هذه الوثيقة "
    "مهما طال الوقت، وأن نعود إلى الميسر إذا احتجنا إلى المساعدة."
)


def _in(language: str, msgid: str) -> str:
    with translation.override(language):
        return translation.gettext(msgid)


def _fonts_of(pdf: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def _arabic_letters(text: str) -> set[str]:
    return {ch for ch in text if "\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufeff"}


def _reads(place, language: str) -> None:
    User.objects.filter(pk=place.user_id).update(language=language)


def test_a_spanish_pdf_holds_the_spanish_headings(cast):
    version = signed_version(cast)
    with translation.override("es"):
        pdf = exports.agreement_pdf(version)
        due = formats.date_format(version.items.order_by("due_on").first().due_on, "DATE_FORMAT")
    text = text_of(pdf)

    for msgid in HEADINGS:
        assert _in("es", msgid) in text, msgid
    assert due in text  # the month in Spanish
    assert PdfReader(BytesIO(pdf)).metadata.title == _in("es", "Agreement %(reference)s v%(n)s") % {
        "reference": cast.case.reference,
        "n": 1,
    }
    assert _in("es", "Agreement") != "Agreement"


def test_a_spanish_reader_downloads_the_pdf_in_spanish(cast):
    version = signed_version(cast)
    _reads(cast.harmed, "es")
    url = f"/cases/{cast.case.reference}/agreement/v{version.number}/agreement.pdf"
    response = cast.client("harmed").get(url)
    assert response.status_code == 200
    text = text_of(response.content)
    for msgid in HEADINGS:
        assert _in("es", msgid) in text, msgid


def test_an_arabic_pdf_reads_in_order_in_a_font_with_arabic_letters(cast):
    version = draft_with_items(cast)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=ARABIC_TERMS)
    version.refresh_from_db()
    with translation.override("ar"):
        pdf = exports.agreement_pdf(version)
        heading = translation.gettext("Commitments")
    text = text_of(pdf)

    fonts = _fonts_of(pdf)
    assert any("Noto-Sans-Arabic" in font for font in fonts), fonts
    assert not any("Vera" in font or "DejaVu" in font for font in fonts), fonts
    # Each word comes back as it was written: its letters in reading order, not joined presentation
    # forms in drawing order (HarfBuzz shapes them; the PDF maps each glyph back to its letters).
    assert _arabic_letters(heading) and heading in text
    for word in ARABIC_TERMS.split()[:6]:
        assert word in text, word
    assert not {ch for ch in text if "\ufb50" <= ch <= "\ufeff"}, "no presentation forms"


def test_an_arabic_pdf_keeps_the_first_words_of_a_paragraph_first(cast):
    """The first words of a long right-to-left paragraph are on its first line, not its last."""
    version = draft_with_items(cast)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=ARABIC_TERMS)
    version.refresh_from_db()
    with translation.override("ar"):
        text = text_of(exports.agreement_pdf(version))
    words = ARABIC_TERMS.split()
    assert text.index(words[0]) < text.index(words[len(words) // 2]) < text.index(words[-2])


def _drawn_on_first_page(pdf: bytes) -> list[tuple[float, float, str]]:
    """Each piece of text drawn on the first page: its height and where it starts across the page."""
    drawn: list = []
    pages_of(pdf)[0].extract_text(
        visitor_text=lambda text, cm, tm, *_, into=drawn: into.append((cm[5] + tm[5], cm[4] + tm[4], text))
    )
    return drawn


def test_an_arabic_pdf_is_right_aligned(cast):
    version = draft_with_items(cast)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=ARABIC_TERMS)
    version.refresh_from_db()
    title_x = {}
    for language in ("en", "ar"):
        with translation.override(language):
            pdf = exports.agreement_pdf(version)
            title = translation.gettext("Agreement")
        drawn = _drawn_on_first_page(pdf)
        title_x[language] = min(x for y, x, text in drawn if text.strip() == title)
    # A left-to-right title starts at the left margin; a right-to-left one ends at the right margin.
    assert title_x["en"] < 100 < 300 < title_x["ar"], title_x


def test_missing_noto_fonts_are_said(monkeypatch, caplog):
    monkeypatch.setattr(pdf_text, "FONT_FILES", ("/nonexistent/NotoSans-Regular.ttf",))
    pdf_text.fonts.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="mend.agreements.pdf_text"):
            assert pdf_text.fonts() == "fallback"
        assert "fonts-noto-core" in caplog.text
    finally:
        monkeypatch.undo()
        pdf_text.fonts.cache_clear()
        assert pdf_text.fonts() == "Noto"


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_agreement_calendar_is_in_the_readers_language(cast, language):
    version = signed_version(cast)
    check_ins_for(cast, version)
    _reads(cast.responsible, language)

    response = cast.client("responsible").get(f"/cases/{cast.case.reference}/agreement/calendar.ics")

    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    reference = cast.case.reference
    assert str(calendar["X-WR-CALNAME"]) == _in(language, "Agreement %(reference)s") % {
        "reference": reference
    }
    summaries = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    with translation.override(language):
        kind = exports._kind_label("restitution")
        assert _("Due: %(kind)s (%(reference)s)") % {"kind": kind, "reference": reference} in summaries
    assert {event["SUMMARY"].params["LANGUAGE"] for event in calendar.walk("VEVENT")} == {language}
    assert f"Due: Restitution ({reference})" not in summaries


def test_an_english_calendar_is_marked_english(cast):
    version = signed_version(cast)
    with translation.override("en"):
        ics = exports.agreement_ics(
            version.agreement,
            items=selectors.items_in_force(version.agreement),
            check_ins=[],
            program_tz=None,
        )
    [*events] = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert events and {event["SUMMARY"].params["LANGUAGE"] for event in events} == {"en"}
