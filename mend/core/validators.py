"""Checks for values that several forms and schemas share: country codes, time zones, languages."""

import functools
import gettext as gnu_gettext
import zoneinfo

import pycountry
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from mend.core.errors import DomainError

# ISO 639-1 two-letter codes: a person's preferred language may be one Mend's pages are not yet in (mi, sm).
LANGUAGE_CHOICES = sorted(
    ((lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")),
    key=lambda c: c[1],
)
LANGUAGE_CODES = {code for code, _ in LANGUAGE_CHOICES}


@functools.cache
def _language_names(language: str):
    # pycountry ships the ISO 639 names in many languages (the iso639-3 gettext domain).
    return gnu_gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def language_choices() -> list[tuple[str, str]]:
    """Every language a person may prefer, named in the reader's language: Mend's own interface languages
    first, each in its own name, then the rest (an interpreter can help with those)."""
    names = _language_names(translation.get_language() or settings.LANGUAGE_CODE)
    own = {code for code, _name in settings.LANGUAGES}
    others = sorted(
        ((code, names.gettext(name)) for code, name in LANGUAGE_CHOICES if code not in own),
        key=lambda c: c[1],
    )
    return [
        (_("Languages Mend is written in"), list(settings.LANGUAGES)),
        (_("Other languages (your facilitator can arrange an interpreter)"), others),
    ]


# Walking the time-zone files takes tens of milliseconds; the set does not change while we run.
_time_zones = functools.cache(zoneinfo.available_timezones)


def jurisdiction(code: str) -> str:
    """An ISO 3166-1 alpha-2 country (`NZ`) or ISO 3166-2 subdivision (`AU-NSW`)."""
    code = code.strip().upper()
    if pycountry.countries.get(alpha_2=code) or (len(code) > 3 and pycountry.subdivisions.get(code=code)):
        return code
    raise DomainError(
        _("“%(code)s” is not a country or region code we know. Use codes like NZ, GB or AU-NSW.")
        % {"code": code}
    )


def jurisdictions(codes: list[str]) -> list[str]:
    cleaned = []
    for code in codes:
        if code.strip():
            value = jurisdiction(code)
            if value not in cleaned:
                cleaned.append(value)
    if not cleaned:
        raise DomainError(_("Add at least one country or region code, like NZ or AU-NSW."))
    return cleaned


def text(value: str, what: str, *, max_length: int, required: bool = False) -> str:
    """Free text from a form or API: trimmed, present when required, and within its length."""
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("Please fill in the %(what)s.") % {"what": what}, field=what)
    if len(value) > max_length:
        raise DomainError(
            _("The %(what)s can be at most %(n)d characters.") % {"what": what, "n": max_length}, field=what
        )
    return value


def time_zone(name: str) -> str:
    if name not in _time_zones():
        raise DomainError(
            _("“%(name)s” is not a time zone we know. Use a name like Pacific/Auckland.") % {"name": name}
        )
    return name


def language(code: str) -> str:
    if code not in LANGUAGE_CODES:
        raise DomainError(
            _("“%(code)s” is not a language code we know. Use a code like en, fr or mi.") % {"code": code}
        )
    return code
