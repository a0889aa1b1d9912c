from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    """What each step of a case waits for: no models, only the rules. Installed so that it can answer the
    stage machine's question from ready() (cases sits below it and never imports it)."""

    name = "mend.readiness"
    label = "readiness"

    def ready(self):
        from mend.cases import hooks  # layering: needs the loaded models
        from mend.readiness.rules import (  # layering: needs the loaded models
            case_guards_missing,
            case_told_of_leaving,
        )

        hooks.guards_missing.register(case_guards_missing)
        hooks.told_of_leaving.register(case_told_of_leaving)
