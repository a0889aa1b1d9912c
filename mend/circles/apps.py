from django.apps import AppConfig

from mend.core import registry


class CirclesConfig(AppConfig):
    name = "mend.circles"
    label = "circles"

    def ready(self):
        from mend.accounts import offboarding  # layering: needs the loaded models
        from mend.circles import minutes, standing  # layering: needs the loaded models
        from mend.meetings import hooks as meeting_hooks  # layering: needs the loaded models

        registry.register_job_schedule(minutes.circle_jobs_schedule)
        # A volunteer's places in the program's circles end with it (circle access also asks for the
        # membership); they are audited one by one and not counted with the case places.
        offboarding.register_places_end(standing.member_places_end, counted=False)
        # Someone at a meeting may need support: circles keeps the staff alerts, meetings tells it.
        meeting_hooks.needs_support.register(minutes.needs_support_alert)
