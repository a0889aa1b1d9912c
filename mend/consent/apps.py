from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "mend.consent"
    label = "consent"

    def ready(self):
        from mend.accounts.services import register_program_setup  # layering: needs the loaded models
        from mend.cases import hooks as case_hooks  # layering: needs the loaded models
        from mend.consent import services  # layering: needs the loaded models
        from mend.consent.selectors import withdrawn_ids  # layering: needs the loaded models

        register_program_setup(services.consent_texts_seed)
        case_hooks.withdrawn_ids.register(withdrawn_ids)
        case_hooks.interpreter_changed.register(services.interpreter_consent_end)
