"""A meeting's times as each person reads them on their own clock (the page, the invitation file, the
reminders): the time zone by its name, the meeting's end, and the moment in words."""

import zoneinfo
from datetime import datetime, timedelta

from django.utils import formats, timezone

from mend.meetings.models import Meeting


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The named time zone; UTC for a name that is not one (an old record, never an error on a page)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def ends_at(session: Meeting) -> datetime:
    return session.starts_at + timedelta(minutes=session.duration_minutes)


def local_time(moment: datetime, zone_name: str) -> str:
    """A moment as a person reads it on their own clock, in the active language's long form (mend/formats):
    "Saturday 27 March 2027, 22:00"."""
    return formats.date_format(timezone.localtime(moment, zone(zone_name)), "DATETIME_FORMAT")


def local_clock(moment: datetime, zone_name: str) -> str:
    return formats.date_format(timezone.localtime(moment, zone(zone_name)), "TIME_FORMAT")
