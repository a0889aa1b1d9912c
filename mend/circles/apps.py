from django.apps import AppConfig

from mend.core import registry


class CirclesConfig(AppConfig):
    name = "mend.circles"
    label = "circles"

    def ready(self):
        from mend.accounts import offboarding  # layering: needs the loaded models
        from mend.circles.minutes import circle_jobs_schedule  # layering: needs the loaded models
        from mend.circles.standing import member_places_end  # layering: needs the loaded models

        registry.register_job_schedule(circle_jobs_schedule)
        # A volunteer's places in the program's circles end with it (circle access also asks for the
        # membership); they are audited one by one and not counted with the case places.
        offboarding.register_places_end(member_places_end, counted=False)
