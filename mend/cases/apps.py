from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "mend.cases"
    label = "cases"
