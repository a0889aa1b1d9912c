"""Who may see a case meeting's page, and as whom: staff who run the case, and the people attending it.
Anyone else, in the case or not, gets the same 404 as for a meeting that does not exist."""

from dataclasses import dataclass

from django.http import Http404

from mend.accounts.models import User
from mend.cases import access
from mend.cases.models import FACILITATING_ROLES, Case, Participant
from mend.meetings import rules
from mend.meetings.models import Meeting


@dataclass
class MeetingAccess:
    """A viewer's way into a meeting. `staff` is of the page only: the room asks rules.facilitates."""

    case: Case | None  # None for a circle's meeting (the room only)
    session: Meeting
    place: Participant | None  # the viewer's own place among the people attending, if they attend
    staff: bool  # runs the case (a facilitator of it, or a coordinator or admin of its program)
    time_zone: str  # the viewer's own clock: their place's time zone, or else their account's
    person: rules.Person | None = None  # in the video room: who they are there (a case place or a member)

    @property
    def facilitates(self) -> bool:
        """A facilitator attending the meeting: the people who run it on the day."""
        return self.staff and self.place is not None and self.place.role in FACILITATING_ROLES


def access_meeting(
    user: User, session_id: int, *, reference: str | None = None, must: str = ""
) -> MeetingAccess:
    """The one way to a meeting. With a case `reference`: its page, for staff who run the case and the
    people attending it; `must` narrows it to "staff", "facilitator" or "attendee". Without one: its video
    room, of a case or of a circle, for the people attending it, with `person` their place as
    mend.meetings.rules knows people. A meeting that does not exist and one the user may not see give the
    same 404."""
    if reference is None:
        meeting = _room_access(user, session_id)
    else:
        meeting = _page_access(user, reference, session_id)
    if must and not MUST[must](meeting):
        raise Http404
    return meeting


MUST = {
    "staff": lambda meeting: meeting.staff,
    "facilitator": lambda meeting: meeting.facilitates,
    "attendee": lambda meeting: meeting.place is not None,
}


def _page_access(user: User, reference: str, session_id: int) -> MeetingAccess:
    case = access.access_case(user, reference)
    session = Meeting.objects.filter(case=case, pk=session_id).first()
    if session is None:
        raise Http404
    staff = access.manages_case(user, case.pk)
    own = (
        Participant.objects.filter(case=case, user=user, joined_at__isnull=False, removed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    attending = own is not None and session.attendees.filter(pk=own.pk).exists()
    if not staff and not attending:
        raise Http404
    session.case = case
    return MeetingAccess(
        case=case,
        session=session,
        place=own if attending else None,
        staff=staff,
        time_zone=own.time_zone if own is not None else user.time_zone,
    )


def _room_access(user: User, session_id: int) -> MeetingAccess:
    session = (
        Meeting.objects.select_related("case__program", "circle__program", "circle__keeper")
        .filter(pk=session_id)
        .first()
    )
    person = rules.meeting_member(session, user) if session is not None else None
    if person is None:
        raise Http404
    place = person if isinstance(person, Participant) else None
    return MeetingAccess(
        case=session.case,
        session=session,
        place=place,
        staff=False,
        time_zone=place.time_zone if place is not None else user.time_zone,
        person=person,
    )
