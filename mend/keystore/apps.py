from django.apps import AppConfig

from mend.core import registry


class KeystoreConfig(AppConfig):
    name = "mend.keystore"
    label = "keystore"

    def ready(self):
        from mend.keystore.services import data_key  # layering: needs the loaded models

        registry.register_key_source(data_key)
