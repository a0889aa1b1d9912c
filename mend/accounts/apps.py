from django.apps import AppConfig

from mend.core import throttle


class AccountsConfig(AppConfig):
    name = "mend.accounts"
    label = "accounts"

    def ready(self):
        from mend.accounts.services import account_lock_record  # layering: needs the loaded models

        throttle.name_paused.connect(account_lock_record, dispatch_uid="mend.accounts.account_lock_record")
