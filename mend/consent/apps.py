from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "mend.consent"
    label = "consent"
