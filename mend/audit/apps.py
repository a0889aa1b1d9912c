from django.apps import AppConfig
from django.db.models.signals import post_migrate

from mend.core import registry


class AuditConfig(AppConfig):
    name = "mend.audit"
    label = "audit"

    def ready(self):
        from mend.audit.tasks import (  # layering: needs the loaded models
            book_checkpoint_job,
            checkpoint_schedule,
        )

        registry.register_job_schedule(checkpoint_schedule)
        post_migrate.connect(book_checkpoint_job, sender=self, dispatch_uid="mend.audit.book_checkpoint_job")
