"""A test-only pseudo-locale ("xx"): every translated string shows visibly transformed, so that any text on
a page that is not transformed was never marked for translation.

English "Welcome, %(name)s" becomes "⟦Wélcömé, %(name)s⟧": letters are accented, placeholders, HTML tags and
entities are kept, and the brackets show where a translated string starts and ends.
"""

import re
from pathlib import Path

import polib
from django.conf import settings

CODE = "xx"
ACCENTS = str.maketrans("aeiouyAEIOUYcnCN", "áéíöüÿÁÉÍÖÜŸçñÇÑ")
MARKS = set("⟦⟧áéíöüÿÁÉÍÖÜŸçñÇÑ")
_KEEP = re.compile(r"(%\([^)]+\)[sdr]|%[sdr%]|<[^>]+>|&[#a-z0-9]+;|\{[^}]*\})")


def transform(text: str) -> str:
    if not text:
        return text
    parts = _KEEP.split(text)
    inner = "".join(part if _KEEP.fullmatch(part) else part.translate(ACCENTS) for part in parts)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{lead}⟦{inner.strip()}⟧{trail}"


def build(folder: Path) -> Path:
    """Writes xx's catalogues (Django's and the browser's), made from the Spanish ones' msgids."""
    source = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"
    target = folder / CODE / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    for domain in ("django", "djangojs"):
        po = polib.pofile(str(source / f"{domain}.po"))
        po.metadata["Language"] = CODE
        po.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
        for entry in po:
            entry.flags = [f for f in entry.flags if f != "fuzzy"]
            if entry.msgid_plural:
                entry.msgstr_plural = {0: transform(entry.msgid), 1: transform(entry.msgid_plural)}
            else:
                entry.msgstr = transform(entry.msgid)
        po.save_as_mofile(str(target / f"{domain}.mo"))
    return folder
