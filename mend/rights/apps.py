from django.apps import AppConfig

from mend.core import registry


class RightsConfig(AppConfig):
    """A person's data rights: download of their own information, deletion, and retention expiry."""

    name = "mend.rights"
    label = "rights"

    def ready(self):
        from mend.cases import hooks  # layering: needs the loaded models
        from mend.rights.services import case_shred_if_asked  # layering: needs the loaded models
        from mend.rights.tasks import retention_schedule  # layering: needs the loaded models

        registry.register_job_schedule(retention_schedule)
        hooks.case_closed.register(case_shred_if_asked)
