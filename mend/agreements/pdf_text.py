"""The agreement PDF made from HTML: WeasyPrint lays out a Django template in Noto fonts and writes a
tagged PDF (structure tree, reading order, /Lang from the page's language), with Pango and HarfBuzz
joining Arabic letters and ordering right-to-left text as a browser would.

Nothing is fetched from the network: the only resources are the template's stylesheet and the fonts
installed on the machine (Debian's fonts-noto-core, `make system`)."""

import logging
import os
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from mend.core import i18n

log = logging.getLogger(__name__)


class _WithoutText(logging.Filter):
    """WeasyPrint's warning about a letter no font has quotes the letter: the log says only that one was
    missing, as the agreement's words stay out of logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "unsupported by fonts" in str(record.msg):
            record.msg, record.args = "A letter no installed font has was printed as an empty box.", ()
        return True


logging.getLogger("weasyprint").addFilter(_WithoutText())

TEMPLATE = "agreements/pdf.html"
STYLESHEET = Path(__file__).resolve().parent.parent / "templates" / "agreements" / "pdf.css"
NOTO = "/usr/share/fonts/truetype/noto"
# Debian's fonts-noto-core: Latin (Māori macrons, Spanish and French accents) and Arabic, regular and bold.
FONT_FILES = tuple(
    os.path.join(NOTO, name)
    for name in (
        "NotoSans-Regular.ttf",
        "NotoSans-Bold.ttf",
        "NotoSansArabic-Regular.ttf",
        "NotoSansArabic-Bold.ttf",
    )
)
# Characters other than line breaks and tabs that are not printable (controls, unassigned) are dropped:
# the PDF has no use for them.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_RIGHT_TO_LEFT = {"R", "AL"}


def plain(text) -> str:
    return "".join(
        ch for ch in str(text or "") if ch in "\n\t" or unicodedata.category(ch) not in _UNPRINTABLE
    )


def direction_of(text: str) -> str:
    """ "rtl" or "ltr": the direction of the text's first letter that has one (HTML's dir="auto", which
    WeasyPrint does not apply); the PDF's own direction when none has."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in _RIGHT_TO_LEFT:
            return "rtl"
        if kind == "L":
            return "ltr"
    return i18n.direction()


@cache
def fonts() -> str:
    """Which fonts the PDF is written in: "Noto", or, where fonts-noto-core is not installed, whatever the
    machine has (fontconfig's choice), which may lack some letters; that is logged once."""
    missing = [path for path in FONT_FILES if not os.path.exists(path)]
    if missing:
        log.warning(
            "Noto fonts are missing (%s): agreement PDFs use the machine's other fonts, and letters they "
            "lack print as empty boxes. Install Debian's fonts-noto-core (make system).",
            ", ".join(missing),
        )
        return "fallback"
    return "Noto"


class LocalOnly(URLFetcher):
    """Refuses every resource but the stylesheet's own folder: the PDF never reaches the network, nor
    reads any other file."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = Path(url2pathname(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or parts.netloc or not path.is_relative_to(STYLESHEET.parent):
            raise ValueError(f"The agreement PDF fetches nothing outside its folder: {url[:80]}")
        return super().fetch(url, headers)


@cache
def _stylesheet_and_fonts() -> tuple[CSS, FontConfiguration]:
    font_config = FontConfiguration()
    fetcher = LocalOnly(allowed_protocols=("file",))
    return CSS(filename=str(STYLESHEET), url_fetcher=fetcher, font_config=font_config), font_config


def render(context: dict) -> bytes:
    """The template filled with `context` as a tagged PDF (PDF/UA-1)."""
    fonts()
    html = render_to_string(TEMPLATE, context)
    stylesheet, font_config = _stylesheet_and_fonts()
    document = HTML(
        string=html,
        base_url=STYLESHEET.parent.as_uri() + "/",
        url_fetcher=LocalOnly(allowed_protocols=("file",)),
    )
    return document.write_pdf(
        stylesheets=[stylesheet], font_config=font_config, pdf_variant="pdf/ua-1", pdf_tags=True
    )
