"""Time zones in plain words: "Auckland, New Zealand (UTC+13:00)", a person's likely zones first.

The stored value stays the IANA name (Pacific/Auckland). Countries come from the tz database's own tables
(zone.tab, zone1970.tab) and are named with pycountry's catalogues in the reader's language; cities with the
Unicode CLDR's names for them (through Babel: "Nueva York", "برلين"), or the zone's own where it has none.
"""

import functools
import gettext as gnu_gettext
import re
import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pycountry
from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mend.core import i18n

# The tz database's regions, named for people (the first part of a zone's name).
REGIONS = {
    "Africa": gettext_lazy("Africa"),
    "America": gettext_lazy("Americas"),
    "Antarctica": gettext_lazy("Antarctica"),
    "Arctic": gettext_lazy("Arctic"),
    "Asia": gettext_lazy("Asia"),
    "Atlantic": gettext_lazy("Atlantic Ocean"),
    "Australia": gettext_lazy("Australia"),
    "Europe": gettext_lazy("Europe"),
    "Indian": gettext_lazy("Indian Ocean"),
    "Pacific": gettext_lazy("Pacific Ocean"),
}


def _tables_dir() -> Path | None:
    """The machine's tz tables, else those of Python's tzdata package (the same data zoneinfo reads)."""
    for root in zoneinfo.TZPATH:
        if (Path(root) / "zone1970.tab").exists():
            return Path(root)
    try:
        import tzdata  # noqa: PLC0415 (optional: only where the machine has no tz tables)
    except ImportError:
        return None
    found = Path(tzdata.__file__).parent / "zoneinfo"
    return found if (found / "zone1970.tab").exists() else None


def _rows(name: str) -> list[tuple[list[str], str]]:
    folder = _tables_dir()
    if folder is None or not (folder / name).exists():
        return []
    rows = []
    for line in (folder / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            parts = line.split("\t")
            rows.append((parts[0].split(","), parts[2]))
    return rows


@functools.cache
def _countries() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(the country each zone is in, the zones of each country). zone.tab names a zone's own country
    (Europe/Oslo: NO); zone1970.tab adds the countries that share another's zone (NO also keeps Berlin's)."""
    country_of: dict[str, str] = {}
    zones_of: dict[str, list[str]] = {}
    for codes, zone in _rows("zone.tab"):
        country_of.setdefault(zone, codes[0])
        zones_of.setdefault(codes[0], []).append(zone)
    for codes, zone in _rows("zone1970.tab"):
        country_of.setdefault(zone, codes[0])
        for code in codes:
            if zone not in zones_of.setdefault(code, []):
                zones_of[code].append(zone)
    return country_of, {code: tuple(zones) for code, zones in zones_of.items()}


@functools.cache
def _country_names(language: str):
    # pycountry ships the ISO 3166 names in many languages (the iso3166-1 gettext domain).
    return gnu_gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str | None = None) -> str:
    """The country's everyday name ("Bolivia", not "Bolivia, Plurinational State of") in `language`."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    names = _country_names(language or translation.get_language() or settings.LANGUAGE_CODE)
    common = getattr(country, "common_name", None)
    if common and names.gettext(common) != common:
        return names.gettext(common)
    translated = names.gettext(country.name)
    if not common:
        return translated
    if translated == country.name:
        return common
    # "Bolivia, Estado plurinacional de": the everyday name is the part before the comma when that is
    # what the English everyday name is too (not for "Korea, Republic of", whose everyday name is longer).
    before = re.split(r"\s*[,،]\s*", translated, maxsplit=1)[0]
    return before if country.name.startswith(common + ", ") else translated


def offset_words(zone: str, at: datetime) -> str:
    """The zone's offset at `at` in words like UTC+13:00 (summer time included)."""
    minutes = int(at.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _place_words(zone: str, language: str) -> str:
    country = _countries()[0].get(zone)
    parts = zone.split("/")
    if zone == "UTC":
        return _("Coordinated Universal Time")
    if country is None:
        return zone.replace("_", " ")
    name = country_name(country, language)
    # America/Argentina/Buenos_Aires: the middle part says what the country's name already says.
    places = [p.replace("_", " ") for p in reversed(parts[1:])]
    places[0] = _city_names(language).get(zone, places[0])
    places = [p for p in places if p.casefold() != name.casefold()]
    return i18n.list_of([*places, name], language)


@functools.cache
def _city_names(language: str) -> dict[str, str]:
    """The CLDR's names of the zones' cities in `language` (empty for a language it does not know)."""
    try:
        zones = Locale.parse(language.replace("-", "_")).time_zones
    except (UnknownLocaleError, ValueError):
        return {}
    return {zone: names["city"] for zone, names in zones.items() if names.get("city")}


@functools.lru_cache(maxsize=32)
def _labels(language: str, hour: datetime) -> dict[str, str]:
    # Offsets change with summer time: labels are made again each hour, per language.
    with translation.override(language):
        return {
            zone: f"{_place_words(zone, language)} ({offset_words(zone, hour)})"
            for zone in zoneinfo.available_timezones()
        }


def label(zone: str) -> str:
    """One zone in plain words, in the active language, at the current offset."""
    return _labels(*_now_key()).get(zone, zone)


def _now_key() -> tuple[str, datetime]:
    now = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return translation.get_language() or settings.LANGUAGE_CODE, now


def _region(zone: str) -> str | None:
    first = zone.split("/")[0]
    if first in REGIONS and "/" in zone and _countries()[0].get(zone):
        return first
    return None


def likely_zones(*, time_zone: str | None = None, jurisdictions: Iterable[str] = ()) -> list[str]:
    """A program's likely zones: its own, then those of its jurisdictions' countries (AU-NSW counts as AU)."""
    found = [time_zone] if time_zone else []
    zones_of = _countries()[1]
    for code in jurisdictions:
        for zone in sorted(zones_of.get(code.split("-")[0].upper(), ())):
            if zone not in found:
                found.append(zone)
    return found


def time_zone_choices(*, likely: Iterable[str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every IANA zone, as grouped choices for a <select>: "Likely for you" first (in the order given;
    left out, the viewer's own zone), then each region's zones sorted by name, then UTC and the other names
    of the same times (Etc/GMT+5, US/Eastern, ...), so that a zone stored under any name is still offered."""
    labels = _labels(*_now_key())
    if likely is None:
        likely = [timezone.get_current_timezone_name()]
    first = [zone for zone in dict.fromkeys(likely) if zone in labels]
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone, words in labels.items():
        if zone not in first:
            groups.setdefault(_region(zone) or "", []).append((zone, words))
    regions = sorted((r for r in groups if r), key=lambda r: str(REGIONS[r]).casefold())
    choices = [(_("Likely for you"), [(zone, labels[zone]) for zone in first])] if first else []
    for region in regions:
        choices.append((str(REGIONS[region]), sorted(groups[region], key=lambda c: c[1].casefold())))
    others = sorted(groups.get("", []), key=lambda c: (c[0] != "UTC", c[1].casefold()))
    if others:
        choices.append((_("Universal time and other names"), others))
    return choices


def zone_names(choices) -> list[str]:
    """The stored values of grouped choices (for tests and checks)."""
    return [value for _group, options in choices for value, _words in options]
