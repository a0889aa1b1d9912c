"""A meeting as an iCalendar invitation for one attendee.

The words are neutral ("Meeting (Mend)", or the program's own site name), with no reference, name or kind
of meeting: a calendar shows the title on a lock screen, and the file travels (forwarded, synced). The start
and end are in UTC, which every calendar turns into its own clock; the description also gives the time on
the attendee's own clock. The UID is the meeting's, the same for every attendee, so a second import updates
the first.

The words are in the active language, marked with it (LANGUAGE): the reader's own when they download the
file, and the recipient's when it goes out by email (the caller wraps it in mend.core.i18n.in_language_of)."""

from datetime import UTC, timedelta
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mend.accounts.site_name import site_name_of
from mend.meetings.clock import local_time, zone
from mend.meetings.models import Meeting, MeetingFormat, MeetingStatus

PRODID = "-//Mend//Meetings//EN"


def uid_of(session: Meeting) -> str:
    return f"meeting-{session.pk}@mend"


def filename() -> str:
    return "meeting.ics"


def meeting_ics(session: Meeting, attendee, *, email: str | None = None, cancelled: bool = False) -> bytes:
    """The invitation of one attendee (a place in a case, or a circle member: anything with a time_zone).
    A cancelled meeting's file cancels it in the calendar; so does `cancelled`, for an attendee taken off a
    meeting that goes ahead without them."""
    zone_name = zone(attendee.time_zone).key
    start = session.starts_at.astimezone(UTC)
    cancelled = cancelled or session.status == MeetingStatus.CANCELLED
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    in_language = {"LANGUAGE": translation.get_language() or settings.LANGUAGE_CODE}
    event = icalendar.Event()
    event.add("uid", uid_of(session))
    event.add("dtstamp", timezone.now().astimezone(UTC).replace(microsecond=0))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.duration_minutes))
    # The program's site name, not "Mend", when it chose one: a calendar can be seen by others.
    site_name = site_name_of(session.program)
    event.add("summary", _("Meeting (%(site_name)s)") % {"site_name": site_name}, parameters=in_language)
    event.add(
        "description",
        _("Your time: %(when)s (%(zone)s). Sign in to %(site_name)s to see more.")
        % {"when": local_time(session.starts_at, zone_name), "zone": zone_name, "site_name": site_name},
        parameters=in_language,
    )
    if session.format == MeetingFormat.VIDEO:
        event.add(
            "location", _("By video, in %(site_name)s") % {"site_name": site_name}, parameters=in_language
        )
    else:
        event.add("location", _("In person: your facilitator will tell you where"), parameters=in_language)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", 1 if cancelled else 0)
    event.add("transp", "OPAQUE")
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "mend@localhost"
    organizer = icalendar.vCalAddress(f"mailto:{sender}")
    organizer.params["cn"] = site_name
    event.add("organizer", organizer)
    if email:
        guest = icalendar.vCalAddress(f"mailto:{email}")
        guest.params.update({"role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION", "rsvp": "FALSE"})
        event.add("attendee", guest)
    calendar.add_component(event)
    return calendar.to_ical()
