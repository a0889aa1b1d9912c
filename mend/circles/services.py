"""Scheduling sessions, and what happens to them when someone pauses or withdraws."""

import zoneinfo
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mend import audit
from mend.accounts.models import User
from mend.cases import guards
from mend.cases.models import Case, Participant
from mend.circles import video
from mend.circles.models import Session, SessionFormat, SessionKind, SessionStatus
from mend.core import validators
from mend.core.errors import Conflict, DomainError


def _future(case: Case, statuses=(SessionStatus.SCHEDULED,)):
    return Session.objects.select_for_update(of=("self",)).filter(
        case=case, status__in=statuses, starts_at__gt=timezone.now()
    )


@transaction.atomic
def session_schedule(
    *,
    actor: User,
    case: Case,
    kind: str,
    format: str,
    starts_at: datetime,
    time_zone: str,
    attendees: list[Participant],
    duration_minutes: int = 60,
) -> Session:
    """A session is only scheduled while every guard for the people attending holds."""
    if kind not in SessionKind.values:
        raise DomainError(_("Choose the kind of session."), field="kind")
    if format not in SessionFormat.values:
        raise DomainError(_("Choose in person or by video."), field="format")
    tz = zoneinfo.ZoneInfo(validators.time_zone(time_zone))
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, tz)
    if starts_at <= timezone.now():
        raise DomainError(_("Choose a date and time in the future."), field="starts_at")
    if not 15 <= duration_minutes <= 480:
        raise DomainError(_("A session lasts from 15 minutes to 8 hours."), field="duration_minutes")
    if not attendees or any(p.case_id != case.pk or p.removed_at for p in attendees):
        raise DomainError(_("Choose who attends from the people in this case."), field="attendees")
    case = Case.objects.select_for_update().select_related("program").get(pk=case.pk)
    # Read the people again under the case's lock, so a withdrawal or break at this moment is seen.
    attendees = list(Participant.objects.filter(pk__in=[p.pk for p in attendees], case=case, removed_at=None))
    missing = guards.meeting_missing(case, attendees)
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    session = Session.objects.create(
        case=case,
        kind=kind,
        format=format,
        starts_at=starts_at,
        time_zone=tz.key,
        duration_minutes=duration_minutes,
        created_by=actor,
    )
    session.attendees.set(attendees)
    audit.record(
        actor=actor,
        code="session.scheduled",
        target=session,
        case=case,
        data={"kind": kind, "format": format, "attendees": len(attendees)},
    )
    return session


@transaction.atomic
def session_cancel(*, actor: User, session: Session) -> Session:
    session = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(_("This session is already cancelled."))
    session.status = SessionStatus.CANCELLED
    session.save(update_fields=["status"])
    audit.record(actor=actor, code="session.cancelled", target=session, case=session.case)
    return session


@transaction.atomic
def session_restore(*, actor: User, session: Session) -> Session:
    """A session put on hold by someone's break comes back only if every guard holds again."""
    session = (
        Session.objects.select_for_update(of=("self",)).select_related("case__program").get(pk=session.pk)
    )
    if session.status != SessionStatus.ON_HOLD:
        raise Conflict(_("Only a session on hold can be brought back."))
    if session.starts_at <= timezone.now():
        raise Conflict(_("This session's time has passed. Schedule a new one instead."))
    missing = guards.meeting_missing(session.case, list(session.attendees.all()))
    if missing:
        raise Conflict(_("Waiting for: %(items)s.") % {"items": "; ".join(missing)})
    session.status = SessionStatus.SCHEDULED
    session.save(update_fields=["status"])
    audit.record(actor=actor, code="session.restored", target=session, case=session.case)
    return session


def _set_status(*, actor: User, sessions, status: str, code: str) -> int:
    count = 0
    for session in sessions:
        session.status = status
        session.save(update_fields=["status"])
        audit.record(actor=actor, code=code, target=session, case=session.case)
        count += 1
    return count


def sessions_cancel_for(*, actor: User, place: Participant) -> int:
    """Withdrawal: every future session the person would attend is cancelled, and they leave any meeting
    under way at once (its room closes their connections); the others there may go on."""
    # A meeting under way: opened and not ended, whenever it was due to start.
    for meeting in Session.objects.filter(attendees=place, opened_at__isnull=False, ended_at__isnull=True):
        video.meeting_remove_person(place=place, session=meeting)
    sessions = _future(place.case, (SessionStatus.SCHEDULED, SessionStatus.ON_HOLD)).filter(
        attendees=place, opened_at__isnull=True
    )
    return _set_status(
        actor=actor, sessions=list(sessions), status=SessionStatus.CANCELLED, code="session.cancelled"
    )


def sessions_hold_for(*, actor: User, place: Participant) -> int:
    """A break: future sessions with the person wait on hold until a facilitator brings them back, and they
    leave any meeting under way at once; the others there may go on."""
    # A meeting under way: opened and not ended, whenever it was due to start.
    for meeting in Session.objects.filter(attendees=place, opened_at__isnull=False, ended_at__isnull=True):
        video.meeting_remove_person(place=place, session=meeting)
    sessions = _future(place.case).filter(attendees=place, opened_at__isnull=True)
    return _set_status(
        actor=actor, sessions=list(sessions), status=SessionStatus.ON_HOLD, code="session.held"
    )


def sessions_cancel_unconsented(*, actor: User, case: Case) -> int:
    """After a consent or a choice narrows, meetings that no longer meet every guard are cancelled."""
    to_cancel = []
    case._active_places = None  # read everyone's records afresh: something just changed
    for session in _future(case).prefetch_related("attendees"):
        if guards.meeting_missing(case, list(session.attendees.all()), check_stage=False):
            to_cancel.append(session)
    return _set_status(
        actor=actor, sessions=to_cancel, status=SessionStatus.CANCELLED, code="session.cancelled"
    )


def sessions_hold_all(*, actor: User, case: Case) -> int:
    """A paused case: every scheduled session waits on hold until a facilitator brings it back."""
    return _set_status(
        actor=actor, sessions=list(_future(case)), status=SessionStatus.ON_HOLD, code="session.held"
    )


def sessions_cancel_all(*, actor: User, case: Case) -> int:
    """A closed case has no sessions ahead of it."""
    sessions = _future(case, (SessionStatus.SCHEDULED, SessionStatus.ON_HOLD))
    return _set_status(
        actor=actor, sessions=list(sessions), status=SessionStatus.CANCELLED, code="session.cancelled"
    )
