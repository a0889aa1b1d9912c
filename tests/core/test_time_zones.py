"""Time zones in plain words (issue 18, item 4): "Auckland, New Zealand (UTC+13:00)", the likely ones first,
every IANA zone still offered under its own name as the stored value, country names in the reader's
language."""

import re
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.utils import translation

from mend.accounts.forms import JoinForm, SettingsForm
from mend.circles.circle_forms import MeetingForm as CircleMeetingForm
from mend.core.time_zones import (
    country_name,
    likely_zones,
    offset_words,
    time_zone_choices,
    zone_names,
)
from mend.meetings.scheduling_forms import MeetingForm as CaseMeetingForm


def _labels(choices) -> dict[str, str]:
    return {value: words for _group, options in choices for value, words in options}


def test_it_names_a_zone_by_its_city_and_country_with_its_offset_now():
    labels = _labels(time_zone_choices(likely=[]))
    assert re.fullmatch(r"Auckland, New Zealand \(UTC\+1[23]:00\)", labels["Pacific/Auckland"])
    assert re.fullmatch(r"Buenos Aires, Argentina \(UTC-03:00\)", labels["America/Argentina/Buenos_Aires"])
    assert re.fullmatch(r"Kolkata, India \(UTC\+05:30\)", labels["Asia/Kolkata"])
    assert labels["UTC"] == "Coordinated Universal Time (UTC+00:00)"
    # Everyday country names, not the ISO list's long forms.
    assert labels["America/La_Paz"].startswith("La Paz, Bolivia (")


def test_it_gives_the_offset_in_summer_and_winter():
    assert offset_words("Pacific/Auckland", datetime(2027, 1, 15, tzinfo=UTC)) == "UTC+13:00"
    assert offset_words("Pacific/Auckland", datetime(2027, 7, 15, tzinfo=UTC)) == "UTC+12:00"
    assert offset_words("America/St_Johns", datetime(2027, 1, 15, tzinfo=UTC)) == "UTC-03:30"


def test_it_offers_the_likely_zones_first_in_their_own_group():
    likely = likely_zones(time_zone="Pacific/Auckland", jurisdictions=["NZ", "AU-NSW"])
    assert likely[0] == "Pacific/Auckland"
    assert {"Pacific/Chatham", "Australia/Sydney", "Australia/Perth"} <= set(likely)
    choices = time_zone_choices(likely=likely)
    group, options = choices[0]
    assert group == "Likely for you"
    assert [value for value, _words in options] == likely
    # The rest follow by region, each sorted by name, and a likely zone is not offered twice.
    regions = [group for group, _options in choices[1:]]
    assert "Europe" in regions and "Pacific Ocean" in regions and "Likely for you" not in regions
    for _group, options in choices[1:-1]:
        words = [w.casefold() for _value, w in options]
        assert words == sorted(words)
    assert zone_names(choices).count("Pacific/Auckland") == 1


def test_it_takes_a_countrys_own_zones_and_those_it_shares():
    assert "Europe/Oslo" in likely_zones(jurisdictions=["NO"])
    assert likely_zones(jurisdictions=["ZZ"]) == []


def test_it_still_offers_every_iana_zone_exactly_once():
    names = zone_names(time_zone_choices(likely=["Pacific/Auckland"]))
    assert sorted(names) == sorted(zoneinfo.available_timezones())
    # Old and odd names stay choosable, so a zone stored under one is never lost on saving a form.
    assert {"UTC", "Etc/GMT+5", "US/Eastern", "Asia/Calcutta"} <= set(names)


def test_it_names_countries_and_regions_in_the_readers_language():
    with translation.override("es"):
        labels = _labels(time_zone_choices(likely=[]))
        assert country_name("NZ") == "Nueva Zelanda"
    assert labels["Pacific/Auckland"].startswith("Auckland, Nueva Zelanda (UTC+")
    assert labels["Europe/Berlin"].startswith("Berlín, Alemania (UTC+")
    assert country_name("BO", "es") == "Bolivia"
    assert country_name("IR", "ar") == "إيران"
    assert country_name("NZ", "fr") == "Nouvelle-Zélande"


@pytest.mark.parametrize(
    "form",
    [
        lambda: JoinForm(),
        lambda: SettingsForm(likely=["Pacific/Auckland"], taking_part=False),
        lambda: CaseMeetingForm(people=[], left_out=[]),
        lambda: CircleMeetingForm(members=[]),
    ],
    ids=["join", "settings", "case meeting", "circle meeting"],
)
def test_it_is_what_every_time_zone_field_offers(form):
    field = form().fields["time_zone"]
    labels = _labels(field.choices)
    assert labels["Pacific/Auckland"].startswith("Auckland, New Zealand (UTC+")
    assert field.valid_value("Etc/GMT+5") and not field.valid_value("Mars/Olympus_Mons")


def test_it_puts_the_zone_the_join_page_suggests_first():
    field = JoinForm(initial={"time_zone": "Pacific/Auckland"}).fields["time_zone"]
    group, options = list(field.choices)[0]
    assert (group, options[0][0]) == ("Likely for you", "Pacific/Auckland")


@pytest.mark.parametrize(
    ("language", "zone", "words"),
    [
        ("es", "America/New_York", "Nueva York, Estados Unidos"),
        ("fr", "Europe/London", "Londres, Royaume-Uni"),
        ("ar", "Europe/Berlin", "برلين، ألمانيا"),
        ("en", "Asia/Ho_Chi_Minh", "Ho Chi Minh City, Vietnam"),
        ("en", "America/Argentina/Buenos_Aires", "Buenos Aires, Argentina"),
    ],
)
def test_it_names_cities_in_the_readers_language_where_the_cldr_has_a_name(language, zone, words):
    with translation.override(language):
        labels = _labels(time_zone_choices(likely=[]))
    assert labels[zone].startswith(f"{words} (UTC")


def test_a_language_the_cldr_does_not_know_keeps_the_zones_own_city_names():
    with translation.override("xx"):
        labels = _labels(time_zone_choices(likely=[]))
    assert labels["America/New_York"].startswith("New York, ")
