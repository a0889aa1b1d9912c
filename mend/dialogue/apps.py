from django.apps import AppConfig


class DialogueConfig(AppConfig):
    name = "mend.dialogue"
    label = "dialogue"
