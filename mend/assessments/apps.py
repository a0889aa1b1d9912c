from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "mend.assessments"
    label = "assessments"

    def ready(self):
        from mend.assessments.selectors import conflict_declared  # layering: needs the loaded models
        from mend.cases import hooks  # layering: needs the loaded models

        hooks.conflict_declared.register(conflict_declared)
