from django.apps import AppConfig

from mend.core import registry


class AgreementsConfig(AppConfig):
    name = "mend.agreements"
    label = "agreements"

    def ready(self):
        from mend.agreements.progress import choices_changed  # layering: needs the loaded models
        from mend.agreements.tasks import agreement_jobs_schedule  # layering: needs the loaded models
        from mend.consent import hooks as consent_hooks  # layering: needs the loaded models

        registry.register_job_schedule(agreement_jobs_schedule)
        consent_hooks.choices_changed.register(choices_changed)
