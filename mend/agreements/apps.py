from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "mend.agreements"
    label = "agreements"
