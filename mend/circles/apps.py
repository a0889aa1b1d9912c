from django.apps import AppConfig


class CirclesConfig(AppConfig):
    name = "mend.circles"
    label = "circles"
