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


NIGHT_FROM, NIGHT_UNTIL = 22, 7  # 22:00 to 07:00 on the person's own clock


def at_night(session: Meeting, zone_name: str) -> bool:
    """Whether any part of the meeting falls between 22:00 and 07:00 on this person's own clock (checked every
    quarter of an hour, and at its last minute), so that whoever schedules it is told."""
    start = timezone.localtime(session.starts_at, zone(zone_name))
    minutes = max(session.duration_minutes, 1)
    moments = [start + timedelta(minutes=m) for m in range(0, minutes, 15)] + [
        start + timedelta(minutes=minutes - 1)
    ]
    return any(m.hour >= NIGHT_FROM or m.hour < NIGHT_UNTIL for m in moments)
