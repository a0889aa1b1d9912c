"""The unsent-files job: every hour, files uploaded more than MEND_UNSENT_FILE_HOURS ago that no message
names are deleted, so that uploads never sent do not pile up (or fill the disk) for ever."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from mend.dialogue.models import Attachment

EVERY = timedelta(hours=1)
TASK_PATH = "mend.dialogue.tasks.unsent_files_purge"


def unsent_files_delete() -> int:
    """Deletes every file never attached to a message and older than MEND_UNSENT_FILE_HOURS; how many."""

    before = timezone.now() - timedelta(hours=settings.MEND_UNSENT_FILE_HOURS)
    deleted, _ = Attachment.objects.filter(message__isnull=True, created_at__lt=before).delete()
    return deleted


@task()
def unsent_files_purge() -> int:
    """Deletes the old unsent files, then books the next run."""
    deleted = unsent_files_delete()
    unsent_files_schedule(after=EVERY)
    return deleted


def unsent_files_schedule(*, after: timedelta = timedelta(0)) -> bool:
    """Makes sure one run is waiting in the queue; the worker calls it when it starts, and each run books the
    next. Returns whether a run was added."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").exists():
        return False
    unsent_files_purge.using(run_after=timezone.now() + after).enqueue()
    return True
