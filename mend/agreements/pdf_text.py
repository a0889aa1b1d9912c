"""The agreement PDF's text in the reader's language: a font with the glyphs of every interface language, and
right-to-left text shaped and ordered line by line, since reportlab draws glyphs as given, left to right.

Arabic letters take a different form at the start, middle and end of a word (arabic_reshaper joins them),
and a right-to-left line is stored in reading order but drawn in visual order (python-bidi). The order is
made per line after the line breaks are chosen, never for a whole paragraph: otherwise its first words
would end up on its last line."""

import logging
import os
import unicodedata
from functools import cache
from xml.sax.saxutils import escape

import arabic_reshaper
import reportlab
from bidi.algorithm import get_display
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph

from mend.core import i18n

log = logging.getLogger(__name__)

FONT = "MendSans"
FONT_BOLD = "MendSans-Bold"
# Debian's fonts-dejavu-core (`make install`): Latin, Greek, Cyrillic, Arabic and Hebrew in one family.
DEJAVU = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)
# Characters other than line breaks and tabs that are not printable (controls, unassigned) are dropped:
# reportlab's paragraph parser and the PDF have no use for them.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
_RIGHT_TO_LEFT = {"R", "AL"}


@cache
def fonts() -> str:
    """Registers the PDF's fonts, embedded (subset) so the text can be extracted: DejaVu Sans, or where it is
    not installed the Vera reportlab ships, whose lack of Arabic letters prints empty boxes. Returns which."""
    if all(os.path.exists(path) for path in DEJAVU):
        regular, bold, family = *DEJAVU, "DejaVu Sans"
    else:
        log.warning(
            "DejaVu Sans is not installed (%s): agreement PDFs use Vera, and Arabic letters in them print as "
            "empty boxes. Install Debian's fonts-dejavu-core (make install).",
            DEJAVU[0],
        )
        folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        regular, bold, family = os.path.join(folder, "Vera.ttf"), os.path.join(folder, "VeraBd.ttf"), "Vera"
    pdfmetrics.registerFont(TTFont(FONT, regular))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, bold))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
    return family


def plain(text) -> str:
    return "".join(
        ch for ch in str(text or "") if ch in "\n\t" or unicodedata.category(ch) not in _UNPRINTABLE
    )


def markup(text) -> str:
    """Text as paragraph markup that prints literally: `<b>` and `&` are words here, not formatting."""
    return escape(plain(text)).replace("\t", " ").replace("\n", "<br/>")


def right_to_left() -> bool:
    """Whether the PDF is written right to left: the active language's direction (the reader's)."""
    return i18n.direction() == "rtl"


def _has_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RIGHT_TO_LEFT for ch in text)


def base_direction(text: str, *, rtl: bool) -> str:
    """ "R" or "L": the direction of the text's first letter that has one (as HTML's dir="auto"), so that a
    commitment written in English reads rightly in an Arabic PDF; the PDF's own direction when none has."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in _RIGHT_TO_LEFT:
            return "R"
        if kind == "L":
            return "L"
    return "R" if rtl else "L"


def visual(line: str, *, base: str) -> str:
    """One line as it is drawn: Arabic letters joined, right-to-left runs in visual order, the whole laid
    out from the `base` direction ("R" or "L")."""
    line = plain(line).replace("\t", " ")
    if base == "L" and not _has_right_to_left(line):
        return line
    return get_display(arabic_reshaper.reshape(line), base_dir=base)


def _fits(text: str, font: str, size: float, width: float) -> bool:
    return pdfmetrics.stringWidth(arabic_reshaper.reshape(text), font, size) <= width


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    pieces, piece = [], ""
    for ch in word:
        if piece and not _fits(piece + ch, font, size, width):
            pieces.append(piece)
            piece = ""
        piece += ch
    return [*pieces, piece]


def lines_of(text: str, font: str, size: float, width: float) -> list[str]:
    """The text's lines in reading order, broken at spaces (a word too long for a line, anywhere) so that
    each fits `width` once shaped."""
    lines: list[str] = []
    for given in plain(text).replace("\t", " ").split("\n"):
        line = ""
        for word in given.split(" "):
            candidate = f"{line} {word}" if line else word
            if _fits(candidate, font, size, width):
                line = candidate
                continue
            if line:
                lines.append(line)
            *whole, line = _break_word(word, font, size, width)
            lines += whole
        lines.append(line)
    return lines


class BidiParagraph(Flowable):
    """A paragraph of text that holds right-to-left letters, or of a right-to-left PDF: broken into lines
    for the width it is given, each line then shaped and ordered, and right-aligned in a right-to-left PDF."""

    def __init__(self, text: str, style: ParagraphStyle, *, rtl: bool):
        super().__init__()
        self.text, self.style, self.rtl = text, style, rtl
        self.base = base_direction(text, rtl=rtl)
        self._inner: Paragraph | None = None

    def _laid_out(self, width: float) -> Paragraph:
        font, size = self.style.fontName, self.style.fontSize
        lines = lines_of(self.text, font, size, max(width - 1, size))  # a point spare for rounding
        shown = "<br/>".join(escape(visual(line, base=self.base)) for line in lines)
        style = ParagraphStyle(f"{self.style.name}-bidi", parent=self.style)
        if self.rtl:
            style.alignment = TA_RIGHT
        return Paragraph(shown, style)

    def wrap(self, availWidth, availHeight):
        self._inner = self._laid_out(availWidth)
        self.width, self.height = self._inner.wrap(availWidth, availHeight)
        return self.width, self.height

    def split(self, availWidth, availHeight):
        return (self._inner or self._laid_out(availWidth)).split(availWidth, availHeight)

    def drawOn(self, canvas, x, y, _sW=0):
        self._inner.drawOn(canvas, x, y, _sW)

    def getSpaceBefore(self):
        return self.style.spaceBefore

    def getSpaceAfter(self):
        return self.style.spaceAfter


def paragraph(text, style: ParagraphStyle) -> Flowable:
    """A paragraph of plain text (not markup) that prints literally, in the PDF's direction."""
    text, rtl = plain(text), right_to_left()
    if rtl or _has_right_to_left(text):
        return BidiParagraph(text, style, rtl=rtl)
    return Paragraph(markup(text), style)


def draw_line(canvas, text: str, *, left: float, right: float, y: float) -> None:
    """A line in a page's header or footer, at the start of the line in the PDF's direction."""
    if right_to_left():
        canvas.drawRightString(right, y, visual(text, base="R"))
    else:
        canvas.drawString(left, y, visual(text, base=base_direction(text, rtl=False)))
