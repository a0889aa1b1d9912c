"""Scheduling sessions, and what happens to them when someone pauses or withdraws."""

import zoneinfo
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import User
from mend.audit.codes import AuditCode
from mend.cases.models import Case, Participant
from mend.core import validators
from mend.core.errors import Conflict, DomainError
from mend.meetings import room
from mend.meetings.models import Meeting, MeetingFormat, MeetingKind, MeetingStatus
from mend.readiness.rules import meeting_missing
from mend.readiness.snapshot import snapshot_of


def _future(case: Case, statuses=(MeetingStatus.SCHEDULED,)):
    return Meeting.objects.select_for_update(of=("self",)).filter(
        case=case, status__in=statuses, starts_at__gt=timezone.now()
    )


def when_checked(
    *, format: str, starts_at: datetime, time_zone: str, duration_minutes: int, too_long: str
) -> tuple[datetime, str]:
    """The checks every meeting's scheduling makes, of a case or of a circle: where, when (read in the
    time zone given when it has no offset, and in the future) and how long. Returns the start, aware, and
    the time zone's name. `too_long` is the page's own words for a length out of bounds (a case's pages
    say "session", a circle's "meeting": the words stay what each page showed)."""
    if format not in MeetingFormat.values:
        raise DomainError(_("Choose in person or by video."), field="format")
    tz = zoneinfo.ZoneInfo(validators.time_zone(time_zone))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, tz)
    if starts_at <= timezone.now():
        raise DomainError(_("Choose a date and time in the future."), field="starts_at")
    if not 15 <= duration_minutes <= 480:
        raise DomainError(too_long, field="duration_minutes")
    return starts_at, tz.key


@transaction.atomic
def meeting_schedule(
    *,
    actor: User,
    case: Case,
    kind: str,
    format: str,
    starts_at: datetime,
    time_zone: str,
    attendees: list[Participant],
    duration_minutes: int = 60,
) -> Meeting:
    """A session is only scheduled while every guard for the people attending holds."""
    if kind not in MeetingKind.values:
        raise DomainError(_("Choose the kind of session."), field="kind")
    starts_at, zone_name = when_checked(
        format=format,
        starts_at=starts_at,
        time_zone=time_zone,
        duration_minutes=duration_minutes,
        too_long=_("A session lasts from 15 minutes to 8 hours."),
    )
    if not attendees or any(p.case_id != case.pk or p.removed_at for p in attendees):
        raise DomainError(_("Choose who attends from the people in this case."), field="attendees")
    case = Case.objects.select_for_update().select_related("program").get(pk=case.pk)
    # Read the people again under the case's lock, so a withdrawal or break at this moment is seen.
    attendees = list(Participant.objects.filter(pk__in=[p.pk for p in attendees], case=case, removed_at=None))
    missing = meeting_missing(snapshot_of(case), attendees)
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    session = Meeting.objects.create(
        case=case,
        kind=kind,
        format=format,
        starts_at=starts_at,
        time_zone=zone_name,
        duration_minutes=duration_minutes,
        created_by=actor,
    )
    session.attendees.set(attendees)
    audit.record(
        actor=actor,
        code=AuditCode.SESSION_SCHEDULED,
        target=session,
        case=case,
        data={"kind": kind, "format": format, "attendees": len(attendees)},
    )
    return session


@transaction.atomic
def meeting_cancel(*, actor: User, session: Meeting) -> Meeting:
    session = Meeting.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if session.status == MeetingStatus.CANCELLED:
        raise Conflict(_("This session is already cancelled."))
    session.status = MeetingStatus.CANCELLED
    session.save(update_fields=["status"])
    audit.record(actor=actor, code=AuditCode.SESSION_CANCELLED, target=session, case=session.case)
    return session


@transaction.atomic
def meeting_restore(*, actor: User, session: Meeting) -> Meeting:
    """A session put on hold by someone's break comes back only if every guard holds again."""
    session = (
        Meeting.objects.select_for_update(of=("self",)).select_related("case__program").get(pk=session.pk)
    )
    if session.status != MeetingStatus.ON_HOLD:
        raise Conflict(_("Only a session on hold can be brought back."))
    if session.starts_at <= timezone.now():
        raise Conflict(_("This session's time has passed. Schedule a new one instead."))
    missing = meeting_missing(snapshot_of(session.case), list(session.attendees.all()))
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    session.status = MeetingStatus.SCHEDULED
    session.save(update_fields=["status"])
    audit.record(actor=actor, code=AuditCode.SESSION_RESTORED, target=session, case=session.case)
    return session


def _set_status(*, actor: User, sessions, status: str, code: str) -> int:
    count = 0
    for session in sessions:
        session.status = status
        session.save(update_fields=["status"])
        audit.record(actor=actor, code=code, target=session, case=session.case)
        count += 1
    return count


def meetings_cancel_for(*, actor: User, place: Participant) -> int:
    """Withdrawal: every future session the person would attend is cancelled, and they leave any meeting
    under way at once (its room closes their connections); the others there may go on."""
    # A meeting under way: opened and not ended, whenever it was due to start.
    for meeting in Meeting.objects.filter(attendees=place, opened_at__isnull=False, ended_at__isnull=True):
        room.meeting_remove_person(place=place, session=meeting)
    sessions = _future(place.case, (MeetingStatus.SCHEDULED, MeetingStatus.ON_HOLD)).filter(
        attendees=place, opened_at__isnull=True
    )
    return _set_status(
        actor=actor, sessions=list(sessions), status=MeetingStatus.CANCELLED, code=AuditCode.SESSION_CANCELLED
    )


def meetings_hold_for(*, actor: User, place: Participant) -> int:
    """A break: future sessions with the person wait on hold until a facilitator brings them back, and they
    leave any meeting under way at once; the others there may go on."""
    # A meeting under way: opened and not ended, whenever it was due to start.
    for meeting in Meeting.objects.filter(attendees=place, opened_at__isnull=False, ended_at__isnull=True):
        room.meeting_remove_person(place=place, session=meeting)
    sessions = _future(place.case).filter(attendees=place, opened_at__isnull=True)
    return _set_status(
        actor=actor, sessions=list(sessions), status=MeetingStatus.ON_HOLD, code=AuditCode.SESSION_HELD
    )


def meetings_cancel_unconsented(*, actor: User, case: Case) -> int:
    """After a consent or a choice narrows, meetings that no longer meet every guard are cancelled."""
    to_cancel = []
    snap = snapshot_of(case)  # everyone's records as they are now: something just changed
    for session in _future(case).prefetch_related("attendees"):
        if meeting_missing(snap, list(session.attendees.all()), check_stage=False):
            to_cancel.append(session)
    return _set_status(
        actor=actor, sessions=to_cancel, status=MeetingStatus.CANCELLED, code=AuditCode.SESSION_CANCELLED
    )


def meetings_hold_all(*, actor: User, case: Case) -> int:
    """A paused case: every scheduled session waits on hold until a facilitator brings it back."""
    return _set_status(
        actor=actor, sessions=list(_future(case)), status=MeetingStatus.ON_HOLD, code=AuditCode.SESSION_HELD
    )


def meetings_cancel_all(*, actor: User, case: Case) -> int:
    """A closed case has no sessions ahead of it."""
    sessions = _future(case, (MeetingStatus.SCHEDULED, MeetingStatus.ON_HOLD))
    return _set_status(
        actor=actor, sessions=list(sessions), status=MeetingStatus.CANCELLED, code=AuditCode.SESSION_CANCELLED
    )
