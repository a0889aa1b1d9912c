from django.apps import AppConfig


class KeystoreConfig(AppConfig):
    name = "mend.keystore"
    label = "keystore"
