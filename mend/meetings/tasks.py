"""Meeting reminders through the job queue: a day before and an hour before, by email to attendees who gave
an email address (mend.meetings.services.remind).

Each reminder is its own job, booked to run at its moment, so the queue itself sends it once. A booking
run every 15 minutes books the reminders of the meetings starting within the next day and a bit, under a
lock on each meeting so that two workers never book the same reminder twice; it books itself again, and the
worker books it whenever it starts (mend.core.worker.schedule_periodic_jobs). A reminder whose moment
passed more than one booking interval ago is not booked: the invitation was enough."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from mend.meetings import services as meetings
from mend.meetings.models import Meeting, MeetingStatus

BOOK_EVERY = timedelta(minutes=15)
BEFORE = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
HORIZON = BEFORE["day"] + timedelta(hours=1)


def _waiting(job) -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=job.module_path, status=TaskResultStatus.READY).exists()


def _book_run(job, *, after: timedelta) -> bool:
    if _waiting(job):
        return False
    job.using(run_after=timezone.now() + after).enqueue()
    return True


@task()
def meeting_remind(session_id: int, starts_at: str, before: str) -> int:
    """One reminder of one meeting; does nothing if the meeting moved, stopped or started meanwhile."""
    return meetings.remind(session_id=session_id, starts_at=starts_at, before=before)


def _booked(session_ids: list[int], now: datetime) -> set[tuple[int, str, str]]:
    """The reminders already in the queue (waiting, run or failed) for these meetings. Any reminder of a
    meeting starting within the horizon was booked to run less than the horizon ago."""
    from django_tasks_db.models import DBTaskResult

    found = set()
    rows = DBTaskResult.objects.filter(
        task_path=meeting_remind.module_path, run_after__gte=now - HORIZON
    ).values_list("args_kwargs", flat=True)
    for args_kwargs in rows:
        kwargs = (args_kwargs or {}).get("kwargs") or {}
        if kwargs.get("session_id") in session_ids:
            found.add((kwargs["session_id"], kwargs.get("starts_at"), kwargs.get("before")))
    return found


@transaction.atomic
def reminders_book(*, now: datetime) -> int:
    """Books the reminders due for the case meetings starting within the horizon; returns how many."""
    sessions = list(
        Meeting.objects.select_for_update(of=("self",))
        .filter(
            case__isnull=False,
            status=MeetingStatus.SCHEDULED,
            opened_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + HORIZON,
        )
        .order_by("pk")
    )
    booked = _booked([s.pk for s in sessions], now)
    count = 0
    for session in sessions:
        starts_at = session.starts_at.isoformat()
        for before, ahead in BEFORE.items():
            moment = session.starts_at - ahead
            if moment <= now - BOOK_EVERY or (session.pk, starts_at, before) in booked:
                continue
            meeting_remind.using(run_after=max(moment, now)).enqueue(
                session_id=session.pk, starts_at=starts_at, before=before
            )
            count += 1
    return count


@task()
def meeting_reminders_run() -> int:
    """Books the reminders that are due; booked again even when it fails, so it fails loudly until fixed."""
    try:
        return reminders_book(now=timezone.now())
    finally:
        _book_run(meeting_reminders_run, after=BOOK_EVERY)


def meeting_jobs_schedule() -> None:
    """Books the reminders' booking run unless one already waits; the worker calls it when it starts."""
    _book_run(meeting_reminders_run, after=timedelta(0))
