from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "mend.cases"
    label = "cases"

    def ready(self):
        from mend.accounts import offboarding  # layering: needs the loaded models
        from mend.cases.offboarding import staff_places_end  # layering: needs the loaded models

        offboarding.register_places_end(staff_places_end, counted=True)
