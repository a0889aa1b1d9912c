"""Which language a person reads Mend in: one rule for pages, notices, emails, files and consent texts.

A person's own choice (`User.language`) comes first, then the program's default language, then Mend's
default (English). A code Mend has no interface in (a preferred language such as mi) falls through to the
next; docs/languages.md says how to add one.
"""

from contextlib import AbstractContextManager
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import formats, translation
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from mend.core.errors import DomainError


def supported(code: str | None) -> str | None:
    """The interface language for `code` (its base language for a regional code such as es-MX), or None."""
    if not code:
        return None
    codes = {c for c, _ in settings.LANGUAGES}
    code = code.lower()
    if code in codes:
        return code
    base = code.split("-")[0]
    return base if base in codes else None


def language_of(user=None, *, fallback: str | None = None) -> str:
    """The interface language of `user` (a User or None); `fallback` is the program's default language."""
    return supported(getattr(user, "language", None)) or supported(fallback) or settings.LANGUAGE_CODE


def in_language_of(user=None, *, fallback: str | None = None) -> AbstractContextManager:
    """`with in_language_of(recipient):` around what is written for someone other than the viewer."""
    return translation.override(language_of(user, fallback=fallback))


def direction(code: str | None = None) -> str:
    """ "rtl" or "ltr" for `code` (the active language when None)."""
    code = (code or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return "rtl" if code in settings.LANGUAGES_BIDI else "ltr"


def chosen(code: str | None) -> str:
    """A language someone picked from the list of interface languages, or a DomainError saying so."""
    if not code or supported(code) != code:
        raise DomainError(_("Choose a language from the list."), field="language")
    return code


def amount(value) -> str:
    """An amount in the reader's number format, grouped, with two decimals (1,234.50 in English, 1 234,50 in
    Spanish): one rule for pages (the money filter) and files (the agreement PDF). What is not a number is
    shown as it was written."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return str(value).strip()
    return formats.number_format(number, decimal_pos=2, use_l10n=True, force_grouping=True)


def isolate(value) -> SafeString:
    """One value (a name, a reference, a key) escaped and isolated in a <bdi>: it keeps its own direction
    and leaves the words around it in order. Mend's one way of writing it."""
    return format_html("<bdi>{}</bdi>", value)


def isolated(text: str, **values) -> SafeString:
    """A translated sentence with its values (names, references, keys) each isolated in a <bdi>, so that a
    name written left to right reads rightly in a right-to-left sentence and the other way round. The
    template's {{ value|bdi }} does the same inside a template's own sentences."""
    return mark_safe(  # noqa: S308 - the sentence is escaped, each value escaped and isolated
        escape(text) % {name: isolate(value) for name, value in values.items()}
    )


# Between the items of a list written out ("English, French"): Arabic writes its own comma.
LIST_SEPARATORS = {"ar": "، "}


def list_of(items: list[str], language: str | None = None) -> str:
    """Items one after another in the reader's language (the active one when `language` is None)."""
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    return LIST_SEPARATORS.get(code, ", ").join(items)
