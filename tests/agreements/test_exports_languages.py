"""The agreement's PDF and calendar in the reader's language: headings and titles translated, and Arabic
joined and laid out right to left in a font that has its letters."""

import logging
from io import BytesIO

import arabic_reshaper
import icalendar
import pytest
from django.utils import formats, translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from mend.accounts.models import User
from mend.agreements import exports, pdf_text, selectors, services
from tests.agreements.test_exports import check_ins_for, draft_with_items, signed_version, text_of

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


def test_an_arabic_pdf_is_joined_right_to_left_in_a_font_with_arabic_letters(cast):
    version = draft_with_items(cast)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=ARABIC_TERMS)
    version.refresh_from_db()
    with translation.override("ar"):
        pdf = exports.agreement_pdf(version)
        heading = translation.gettext("Commitments")
    text = text_of(pdf)

    fonts = _fonts_of(pdf)
    assert any("DejaVuSans" in font for font in fonts) and not any("Vera" in font for font in fonts)
    # The text is drawn in visual order; reversed (or as pypdf already gives it back) it reads in order.
    found = _arabic_letters(text) | _arabic_letters(text[::-1])
    assert found & {chr(c) for c in range(0xFB50, 0xFF00)}, "the letters are joined (presentation forms)"
    shaped = arabic_reshaper.reshape(heading)
    assert shaped in text or shaped[::-1] in text
    for word in arabic_reshaper.reshape(ARABIC_TERMS).split()[:3]:
        assert word in text or word[::-1] in text, word
    assert _arabic_letters(heading)  # the headings themselves are Arabic


def test_an_arabic_pdf_breaks_lines_before_it_orders_them(cast):
    """The first words of a long right-to-left paragraph are on its first line, not its last."""
    lines = pdf_text.lines_of(ARABIC_TERMS, pdf_text.FONT, 10, 200)
    assert len(lines) > 2
    assert lines[0].split()[0] == ARABIC_TERMS.split()[0]
    assert " ".join(lines) == ARABIC_TERMS


def test_an_arabic_pdf_is_right_aligned(cast):
    version = draft_with_items(cast)
    services.version_terms_save(actor=cast.facilitator, version=version, terms=ARABIC_TERMS)
    version.refresh_from_db()
    title_x = {}
    for language in ("en", "ar"):
        with translation.override(language):
            page = PdfReader(BytesIO(exports.agreement_pdf(version))).pages[0]
        drawn: list = []
        page.extract_text(visitor_text=lambda text, cm, tm, *_, into=drawn: into.append((tm[5], tm[4], text)))
        # The title is the highest text under the page's running header (12 mm from the top).
        title_x[language] = max((y, x) for y, x, text in drawn if text.strip() and y < 790)[1]
    # A left-to-right title starts at the left margin; a right-to-left one ends at the right margin.
    assert title_x["en"] < 100 < 300 < title_x["ar"]


def test_a_missing_font_falls_back_to_vera_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(
        pdf_text, "DEJAVU", ("/nonexistent/DejaVuSans.ttf", "/nonexistent/DejaVuSans-Bold.ttf")
    )
    pdf_text.fonts.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="mend.agreements.pdf_text"):
            assert pdf_text.fonts() == "Vera"
        assert "fonts-dejavu-core" in caplog.text
    finally:
        monkeypatch.undo()
        pdf_text.fonts.cache_clear()
        assert pdf_text.fonts() == "DejaVu Sans"


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
