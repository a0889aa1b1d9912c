from django.apps import AppConfig

from mend.core import registry


class DialogueConfig(AppConfig):
    name = "mend.dialogue"
    label = "dialogue"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from mend.cases import hooks as case_hooks  # layering: needs the loaded models
        from mend.consent import hooks as consent_hooks  # layering: needs the loaded models
        from mend.dialogue import services  # layering: needs the loaded models
        from mend.dialogue.signals import close_sockets_on_sign_out  # layering: needs the loaded models
        from mend.dialogue.tasks import unsent_files_schedule  # layering: needs the loaded models

        user_logged_out.connect(close_sockets_on_sign_out, dispatch_uid="mend.dialogue.sign_out")
        registry.register_job_schedule(unsent_files_schedule)
        # An interpreter leaves the conversations of the person they help at once (mend.dialogue.rules).
        case_hooks.case_rechecked.register(services.interpreters_recheck)
        consent_hooks.break_taken.register(services.interpreters_recheck_for)
