"""The retention job: once a day, cases closed for longer than their program keeps records are
crypto-shredded (mend.rights.services.retention_expire)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from mend.rights.services import retention_expire

EVERY = timedelta(days=1)
TASK_PATH = "mend.rights.tasks.retention_purge"


@task()
def retention_purge() -> int:
    """Shreds every expired case, then books the next run for tomorrow."""

    done = retention_expire()
    retention_schedule(after=EVERY)
    return done


def retention_schedule(*, after: timedelta = timedelta(0)) -> bool:
    """Makes sure one retention run is waiting in the queue; the worker calls it when it starts, and each
    run books the next. Returns whether a run was added."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").exists():
        return False
    retention_purge.using(run_after=timezone.now() + after).enqueue()
    return True
