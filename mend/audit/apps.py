from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def _book_checkpoint_job(sender, *, using, apps=None, **kwargs):
    # Every install and upgrade runs `migrate`, so the self-booking checkpoint job always has a first run.
    # `apps` is the migrated state; `flush` sends none, and then every table exists.
    if using != DEFAULT_DB_ALIAS:
        return
    try:
        (apps or global_apps).get_model("django_tasks_database", "DBTaskResult")
        (apps or global_apps).get_model("audit", "Checkpoint")
    except LookupError:
        return  # migrated only part of the way: the tables are not there yet
    from mend.audit.tasks import checkpoint_schedule

    checkpoint_schedule()


class AuditConfig(AppConfig):
    name = "mend.audit"
    label = "audit"

    def ready(self):
        post_migrate.connect(_book_checkpoint_job, sender=self, dispatch_uid="mend.audit.book_checkpoint_job")
