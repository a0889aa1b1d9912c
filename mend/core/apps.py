from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mend.core"
    label = "core"

    def ready(self):
        from mend.core import checks  # noqa: F401  # layering: registers the deploy checks once apps are ready
