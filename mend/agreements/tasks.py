"""The agreement jobs: progress updates every hour (and within seconds of a checked item), reminders of
overdue items once a day.

django-tasks has no periodic jobs, so each run books its next one with `run_after`, and the worker books
them again whenever it starts (mend.core.worker.schedule_periodic_jobs), so a crash mid-run never stops
them for good."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus, task

from mend.agreements import progress, reminders

PROGRESS_EVERY = timedelta(hours=1)
REMINDERS_EVERY = timedelta(days=1)


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
def progress_run() -> int:
    """Queues the regular summaries that are due and delivers every update that is due; returns how many
    were delivered. Booked again even when it fails, so it fails loudly every hour until fixed."""

    try:
        now = timezone.now()
        progress.periodic_due(now=now)
        return progress.deliver_due(now=now)
    finally:
        _book(progress_run, after=PROGRESS_EVERY)


@task()
def reminders_run() -> int:
    """Reminds the owners of overdue items (at most once a week each); returns how many were reminded."""

    try:
        return reminders.overdue_remind(today=timezone.localdate())
    finally:
        _book(reminders_run, after=REMINDERS_EVERY)


@task()
def deliver_soon() -> int:
    """Delivers what is due now: enqueued once an event that queued updates is committed."""

    return progress.deliver_due(now=timezone.now())


def deliver_soon_enqueue() -> None:
    """Called after commit (mend.agreements.progress): one waiting delivery run is enough for any number
    of events."""
    if not _waiting(deliver_soon):
        deliver_soon.enqueue()


def agreement_jobs_schedule() -> None:
    """Books the hourly progress run and the daily reminders run unless each already waits; the worker
    calls it when it starts."""
    _book(progress_run, after=timedelta(0))
    _book(reminders_run, after=timedelta(0))
