"""Sends the key store's tables to their own database when one is configured (MEND_KEYSTORE_DATABASE_URL),
and everything else away from it."""

from django.conf import settings

APP = "keystore"


def _separate() -> bool:
    return APP in settings.DATABASES


class KeystoreRouter:
    def _route(self, model):
        if model._meta.app_label == APP and _separate():
            return APP
        return None

    db_for_read = db_for_write = lambda self, model, **hints: self._route(model)  # noqa: E731

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if not _separate():
            return None
        return (app_label == APP) == (db == APP)
