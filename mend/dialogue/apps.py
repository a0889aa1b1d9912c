from django.apps import AppConfig

from mend.core import registry


class DialogueConfig(AppConfig):
    name = "mend.dialogue"
    label = "dialogue"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from mend.dialogue.signals import close_sockets_on_sign_out  # layering: needs the loaded models
        from mend.dialogue.tasks import unsent_files_schedule  # layering: needs the loaded models

        user_logged_out.connect(close_sockets_on_sign_out, dispatch_uid="mend.dialogue.sign_out")
        registry.register_job_schedule(unsent_files_schedule)
