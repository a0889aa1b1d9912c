from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "mend.assessments"
    label = "assessments"
