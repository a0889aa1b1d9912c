"""The checkpoint job: signs the chain's head every period when events were added, then books its next run.

django-tasks has no periodic jobs, so this one re-enqueues itself with `run_after`; `migrate` books the
first run (see apps.py), as does `mend audit checkpoint --new`. Whichever worker runs jobs runs it: the
thread of `mend serve` when embedded, `mend worker` processes when scaled."""

from datetime import timedelta

from django.apps import apps as global_apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from mend.audit import services


def period() -> timedelta:
    return timedelta(minutes=getattr(settings, "MEND_AUDIT_CHECKPOINT_MINUTES", 60))


@task()
def audit_checkpoint() -> int | None:
    """Returns the seq it signed, or None when no event came since the latest checkpoint."""
    try:
        checkpoint = services.checkpoint_create()
    finally:
        # Booked even when the chain is broken: the job then fails, loudly, every period until it is fixed.
        checkpoint_schedule()
    return checkpoint.seq if checkpoint is not None else None


def checkpoint_schedule() -> bool:
    """Books the next run unless one is already waiting; True when it booked one."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=audit_checkpoint.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    audit_checkpoint.using(run_after=timezone.now() + period()).enqueue()
    return True


def book_checkpoint_job(sender, *, using, apps=None, **kwargs):
    """post_migrate receiver (apps.py)."""
    # Every install and upgrade runs `migrate`, so the self-booking checkpoint job always has a first run.
    # `apps` is the migrated state; `flush` sends none, and then every table exists.
    if using != DEFAULT_DB_ALIAS:
        return
    try:
        (apps or global_apps).get_model("django_tasks_database", "DBTaskResult")
        (apps or global_apps).get_model("audit", "Checkpoint")
    except LookupError:
        return  # migrated only part of the way: the tables are not there yet
    checkpoint_schedule()
