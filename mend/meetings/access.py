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
    case: Case
    session: Meeting
    place: Participant | None  # the viewer's own place among the people attending, if they attend
    staff: bool  # runs the case (a facilitator of it, or a coordinator or admin of its program)
    time_zone: str  # the viewer's own clock: their place's time zone, or else their account's

    @property
    def facilitates(self) -> bool:
        """A facilitator attending the meeting: the people who run it on the day."""
        return self.staff and self.place is not None and self.place.role in FACILITATING_ROLES


def access_meeting(user: User, reference: str, session_id: int) -> MeetingAccess:
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


def access_meeting_staff(user: User, reference: str, session_id: int) -> MeetingAccess:
    meeting = access_meeting(user, reference, session_id)
    if not meeting.staff:
        raise Http404
    return meeting


def access_meeting_facilitator(user: User, reference: str, session_id: int) -> MeetingAccess:
    meeting = access_meeting(user, reference, session_id)
    if not meeting.facilitates:
        raise Http404
    return meeting


def access_meeting_attendee(user: User, reference: str, session_id: int) -> MeetingAccess:
    meeting = access_meeting(user, reference, session_id)
    if meeting.place is None:
        raise Http404
    return meeting


def access_room(user: User, session_id: int) -> tuple[Meeting, rules.Person]:
    """A meeting's video room, of a case or of a circle: the meeting and the user's place in it (as
    mend.meetings.rules knows people); a meeting that does not exist and one the user does not attend give
    the same 404. The meeting's page goes through access_meeting above."""
    session = (
        Meeting.objects.select_related("case__program", "circle__program", "circle__keeper")
        .filter(pk=session_id)
        .first()
    )
    person = rules.meeting_member(session, user) if session is not None else None
    if person is None:
        raise Http404
    return session, person
