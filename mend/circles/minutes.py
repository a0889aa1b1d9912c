"""Minutes are due to the coordinator within 48 hours of a meeting: the hourly check that alerts the
program's coordinators once per late meeting, and the staff alerts as the dashboard shows them.

django-tasks has no periodic jobs, so each run books its next one with `run_after`, and the worker books
it again whenever it starts (mend.core.worker.schedule_periodic_jobs calls `circle_jobs_schedule`)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_tasks import TaskResultStatus, task

from mend import audit
from mend.accounts.models import Membership, User
from mend.audit.codes import AuditCode
from mend.circles.models import StaffAlert
from mend.circles.standing import coordinators_of
from mend.meetings.models import Meeting, MeetingStatus

MINUTES_DUE_AFTER = timedelta(hours=48)
# Meetings further back than this are not chased: the check looks at a bounded window, and a new install
# does not alert about every meeting of its past at once.
LOOKBACK = timedelta(days=14)
CHECK_EVERY = timedelta(hours=1)


def meeting_end(session: Meeting) -> datetime:
    return session.ended_at or session.starts_at + timedelta(minutes=session.duration_minutes)


def minutes_due_at(session: Meeting) -> datetime:
    return meeting_end(session) + MINUTES_DUE_AFTER


@transaction.atomic
def minutes_overdue_alert(*, now: datetime) -> int:
    """One alert per coordinator of the program for each meeting, of a circle or a case, that ended more
    than 48 hours ago without minutes; never twice for the same meeting. Returns how many were made."""
    cutoff = now - MINUTES_DUE_AFTER
    alerted = StaffAlert.objects.filter(kind=StaffAlert.Kind.MINUTES_OVERDUE, session=OuterRef("pk"))
    # A meeting ends after it starts: the database narrows by the start, the end is checked below.
    candidates = (
        Meeting.objects.filter(
            status=MeetingStatus.SCHEDULED,
            minutes__isnull=True,
            starts_at__lt=cutoff,
            starts_at__gte=cutoff - LOOKBACK,
        )
        .exclude(Exists(alerted))
        .select_related("circle__program", "case__program")
        .order_by("starts_at")
    )
    coordinators = {}
    made = 0
    for session in candidates:
        if meeting_end(session) >= cutoff:
            continue
        program = session.circle.program if session.circle_id else session.case.program
        if program.pk not in coordinators:
            coordinators[program.pk] = coordinators_of(program)
        for person in coordinators[program.pk]:
            _alert, created = StaffAlert.objects.get_or_create(
                recipient=person,
                kind=StaffAlert.Kind.MINUTES_OVERDUE,
                session=session,
                defaults={"program": program, "circle": session.circle},
            )
            made += created
    return made


def needs_support_alert(*, session: Meeting, user_ids: list[int], program_id: int) -> None:
    """Someone at the meeting may need support (mend.meetings.hooks.needs_support): each of these staff gets
    one alert for the meeting, brought back to unread if it was read. It says no more than that."""
    for user_id in user_ids:
        StaffAlert.objects.update_or_create(
            recipient_id=user_id,
            kind=StaffAlert.Kind.NEEDS_SUPPORT,
            session=session,
            defaults={"program_id": program_id, "circle_id": session.circle_id, "read_at": None},
        )


def _waiting(job) -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=job.module_path, status=TaskResultStatus.READY).exists()


def _book(job, *, after: timedelta) -> bool:
    """One run of the job waits in the queue, never two; True when this added it."""
    if _waiting(job):
        return False
    job.using(run_after=timezone.now() + after).enqueue()
    return True


@task()
def minutes_check() -> int:
    """The hourly check of late minutes; booked again even when it fails, so it fails loudly until fixed."""
    try:
        return minutes_overdue_alert(now=timezone.now())
    finally:
        _book(minutes_check, after=CHECK_EVERY)


def circle_jobs_schedule() -> None:
    """Books the hourly minutes check unless one already waits; the worker calls it when it starts."""
    _book(minutes_check, after=timedelta(0))


# Alerts on the staff dashboard.

ALERT_WORDS = {
    StaffAlert.Kind.MINUTES_OVERDUE: _("The minutes of the meeting of %(what)s on %(when)s are overdue."),
    StaffAlert.Kind.CONCERN: _("A concern was raised in the minutes of the meeting of %(what)s on %(when)s."),
    StaffAlert.Kind.NEEDS_SUPPORT: _("Someone may need support after the meeting of %(what)s on %(when)s."),
}


def _link(alert: StaffAlert) -> str:
    session = alert.session
    about_minutes = alert.kind in (StaffAlert.Kind.MINUTES_OVERDUE, StaffAlert.Kind.CONCERN)
    if session is not None and session.circle_id and about_minutes:
        return reverse("circles:minutes", args=[session.circle_id, session.pk])
    if session is not None and session.case_id:
        return reverse("cases:detail", args=[session.case.reference])
    if alert.circle_id:
        return reverse("circles:detail", args=[alert.circle_id])
    return reverse("home")


def alerts_for(user: User, limit: int = 10) -> list[dict]:
    """The user's unread staff alerts, newest first, in words that name a circle or a case reference and
    a date, never content. A late-minutes alert goes once the minutes are in."""
    if not user.is_authenticated or not user.is_staff_member:
        return []
    alerts = (
        StaffAlert.objects.filter(recipient=user, read_at__isnull=True)
        # Only of programs they are still in: someone who left one no longer hears about its circles.
        .filter(program__in=Membership.objects.filter(user=user).values("program_id"))
        .exclude(Q(kind=StaffAlert.Kind.MINUTES_OVERDUE) & Q(session__minutes__isnull=False))
        .select_related("circle", "session__case")
        .order_by("-created_at", "-pk")[:limit]
    )
    result = []
    for alert in alerts:
        session = alert.session
        what = alert.circle.name if alert.circle_id else (session.case.reference if session else "")
        when = date_format(timezone.localtime(session.starts_at), "DATE_FORMAT") if session else ""
        words = str(ALERT_WORDS.get(alert.kind, _("Something needs your attention in %(what)s.")))
        result.append(
            {
                "id": alert.pk,
                "kind": alert.kind,
                "at": alert.created_at,
                "text": words % {"what": what, "when": when},
                "url": _link(alert),
            }
        )
    return result


@transaction.atomic
def staff_alert_read(*, actor: User, alert: StaffAlert) -> StaffAlert:
    """The recipient has seen the alert; it leaves their dashboard."""
    alert = StaffAlert.objects.select_for_update().get(pk=alert.pk, recipient=actor)
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
        audit.record(
            actor=actor,
            code=AuditCode.STAFF_ALERT_READ,
            target=alert,
            program=alert.program,
            data={"kind": alert.kind},
        )
    return alert
