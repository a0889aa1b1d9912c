"""A meeting's times as each person reads them on their own clock (the page, the invitation file, the
reminders): the time zone by its name, the meeting's end, and the moment in words."""

import zoneinfo
from datetime import datetime, timedelta

from django.utils import dateformat, timezone

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
    """A moment as a person reads it on their own clock: "Saturday 27 March 2027, 22:00"."""
    return dateformat.format(timezone.localtime(moment, zone(zone_name)), "l j F Y, H:i")


def local_clock(moment: datetime, zone_name: str) -> str:
    return dateformat.format(timezone.localtime(moment, zone(zone_name)), "H:i")
