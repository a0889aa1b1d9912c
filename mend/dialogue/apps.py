from django.apps import AppConfig


class DialogueConfig(AppConfig):
    name = "mend.dialogue"
    label = "dialogue"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from mend.dialogue.signals import close_sockets_on_sign_out

        user_logged_out.connect(close_sockets_on_sign_out, dispatch_uid="mend.dialogue.sign_out")
