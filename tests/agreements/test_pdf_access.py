"""The agreement PDF as a reader, a screen reader and a copy-paste see it: every letter of the languages
people write in (Māori macrons, Arabic) comes back as written; the document is tagged (a structure tree of
headings, paragraphs and tables, the reader's language, reading order); and the words of an agreement stay
out of the logs when a letter cannot be printed."""

import logging
from io import BytesIO

import pytest
from django.utils import translation
from pypdf import PdfReader

from mend.agreements import exports, pdf_text, services
from tests.agreements.test_exports import (
    RESTITUTION,
    TERMS,
    draft_with_items,
    later,
    signed_version,
    text_of,
)

MACRONS = "āēīōū"
MAORI = f"Ka tukuna e au ngā whakaahua ki a Wren: {MACRONS} ĀĒĪŌŪ"
ARABIC = "سأعيد الصور إلى صاحبتها خلال أسبوع"
HEADINGS = ("What everyone agrees", "Commitments", "Signatures")


def _with_item(cast, *descriptions: str):
    """A draft with one more item for each description, due 10, 12, ... days ahead."""
    version = draft_with_items(cast)
    for n, description in enumerate(descriptions):
        services.item_save(
            actor=cast.facilitator,
            version=version,
            kind="other",
            description=description,
            owner=cast.responsible,
            due_on=later(10 + 2 * n),
            verification="The facilitator checks it with the parties.",
        )
        version.refresh_from_db()
    return version


def _plain_text(pdf: bytes) -> str:
    """pypdf's text as any reader would take it (no help from the tests), line breaks made spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages).split())


def _elements(pdf: bytes) -> list[str]:
    """The structure tree's element types, depth first, in the tree's (reading) order."""
    found: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict) and "/S" in node:
            found.append(str(node["/S"]).lstrip("/"))
            if "/K" in node:
                walk(node["/K"])

    walk(PdfReader(BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"]["/K"])
    return found


def _missing_letters(pdf: bytes) -> bool:
    """Whether any font in the PDF had to print a letter it lacks (WeasyPrint then encodes that font
    with its own CMap instead of Identity-H)."""
    return any(
        font.get_object().get("/Encoding") != "/Identity-H"
        for page in PdfReader(BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_macrons_and_arabic_come_back_exactly_as_written(cast, language):
    version = _with_item(cast, MAORI, ARABIC)

    with translation.override(language):
        pdf = exports.agreement_pdf(version)
    text = _plain_text(pdf)

    assert not _missing_letters(pdf)
    assert MACRONS in text and "ĀĒĪŌŪ" in text  # one letter each, not a box nor a letter and a mark
    assert MAORI in text
    assert ARABIC in text


@pytest.mark.parametrize("language", ["en", "es", "fr", "ar"])
def test_the_pdf_is_tagged_in_the_readers_language(cast, language):
    version = signed_version(cast)

    with translation.override(language):
        pdf = exports.agreement_pdf(version)
    catalog = PdfReader(BytesIO(pdf)).trailer["/Root"]

    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a pypdf BooleanObject
    assert catalog["/Lang"] == language
    elements = _elements(pdf)
    assert elements[0] == "Document"
    assert {"H1", "H2", "H3", "P", "Table", "TR", "TH", "TD"} <= set(elements)
    # The headings in the order they are read: the title, the terms, the commitments (one heading
    # each), the signatures.
    headings = [element for element in elements if element in {"H1", "H2", "H3"}]
    assert headings == ["H1", "H2", "H2", *["H3"] * version.items.count(), "H2"]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_pdf_reads_in_order(cast, language):
    version = signed_version(cast)

    with translation.override(language):
        pdf = exports.agreement_pdf(version)
        title, *headings = (translation.gettext(msgid) for msgid in ("Agreement", *HEADINGS))
        signed = translation.gettext("Signed as “%(name)s”") % {"name": "Wren of the river"}
    text = text_of(pdf)

    terms, commitments, signatures = (text.index(heading) for heading in headings)
    assert text.index(title) < terms < text.index(TERMS) < commitments
    assert commitments < text.index(RESTITUTION) < signatures < text.index(signed[:8])


def test_a_letter_no_font_has_leaves_no_agreement_words_in_the_logs(cast, caplog):
    version = _with_item(cast, "Return the photos to 東京 by Friday")

    with caplog.at_level(logging.DEBUG):
        pdf = exports.agreement_pdf(version)

    assert _missing_letters(pdf)  # the letters were printed as boxes, and that was logged
    said = [record.getMessage() for record in caplog.records if record.name.startswith("weasyprint")]
    assert any("empty box" in message for message in said), said
    logged = " ".join(record.getMessage() for record in caplog.records)
    for word in ("東", "京", "photos", "Friday", "U+6771", "U+4EAC"):
        assert word not in logged, word


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        pdf_text.STYLESHEET.parent.as_uri() + "/%2e%2e/%2e%2e/settings.py",
        pdf_text.STYLESHEET.parent.as_uri() + "/../pdf.css",
        "https://example.org/pdf.css",
    ],
)
def test_the_pdf_fetches_nothing_but_its_stylesheets_folder(url):
    fetcher = pdf_text.LocalOnly(allowed_protocols=("file",))
    with pytest.raises(ValueError, match="fetches nothing outside"):
        fetcher.fetch(url)
    assert b"@page" in fetcher.fetch(pdf_text.STYLESHEET.as_uri()).read()
