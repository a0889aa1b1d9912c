from django.apps import AppConfig

from mend.core import registry


class AgreementsConfig(AppConfig):
    name = "mend.agreements"
    label = "agreements"

    def ready(self):
        from mend.agreements.progress import choices_changed  # layering: needs the loaded models
        from mend.agreements.services import signing_recheck  # layering: needs the loaded models
        from mend.agreements.tasks import agreement_jobs_schedule  # layering: needs the loaded models
        from mend.consent import hooks as consent_hooks  # layering: needs the loaded models

        registry.register_job_schedule(agreement_jobs_schedule)
        consent_hooks.choices_changed.register(choices_changed)
        # A person who leaves their path (stops, takes a break, or is excluded: consent calls
        # took_part_withdrawn for that too) is left out of a version waiting for their signature.
        consent_hooks.took_part_withdrawn.register(signing_recheck)
        consent_hooks.break_taken.register(signing_recheck)
