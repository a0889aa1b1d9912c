"""What keeps a copy of the database useless for guessing staff passwords offline: the wrapped key bundles
and the password hashes are sealed (AES-256-GCM) under the accounts key, a data key of the key store that
the master key wraps and that never sits in the main database in the clear (docs/crypto.md).

The accounts key is the key store's data key for "case" 0 and purpose "accounts": no case has id 0, and
so `mend keys rotate` re-wraps it with every case's key.
"""

import json
import logging

from django.contrib.auth.hashers import BasePasswordHasher, get_hashers, identify_hasher
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from mend.core.at_rest import KeyUnavailable, OpenFailed, open_sealed, seal
from mend.keystore import services as keystore

log = logging.getLogger(__name__)

ACCOUNTS_CASE_ID = 0
PURPOSE = "accounts"
PASSWORD_AAD = b"mend/accounts/v1|password"
SEALED_HASH = "sealed"


def accounts_key(*, model=None) -> bytes:
    """The accounts key, made on first use. `model` is the key store's DataKey (a historical one in
    migrations). Raises KeyUnavailable when the master key in use does not open it."""
    kwargs = {"model": model} if model is not None else {}
    return keystore.data_key(ACCOUNTS_CASE_ID, create=True, purpose=PURPOSE, **kwargs)


# Key bundles ----------------------------------------------------------------------------------------


def bundle_aad(field: str, user_id: int, key_id: str) -> bytes:
    """Binds a sealed bundle to its field, owner and key id, so that it cannot be moved to another row."""
    return f"mend/accounts/v1|keybundle.{field}|user:{int(user_id)}|key:{key_id}".encode()


def is_sealed_bundle(value) -> bool:
    return isinstance(value, dict) and set(value) == {"sealed"} and isinstance(value["sealed"], str)


def seal_bundle(key: bytes, field: str, user_id: int, key_id: str, wrapped: dict) -> dict:
    plain = json.dumps(wrapped, sort_keys=True, separators=(",", ":")).encode()
    return {"sealed": seal(key, bundle_aad(field, user_id, key_id), plain)}


def open_bundle(key: bytes, field: str, user_id: int, key_id: str, stored: dict) -> dict:
    return json.loads(open_sealed(key, bundle_aad(field, user_id, key_id), stored["sealed"]))


class _OpenedOnRead(DeferredAttribute):
    """Reading gives the bundle as the browser wrapped it, opened with the accounts key on first access;
    the row (and `values()`, and a dump) holds only {"sealed": ...}."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        stored = super().__get__(instance, cls)
        if not is_sealed_bundle(stored):
            return stored  # written by an older Mend: sealed at the next save
        opened = instance.__dict__.setdefault("_opened_bundles", {})
        hit = opened.get(self.field.attname)
        if hit is None or hit[0] is not stored:
            plain = open_bundle(accounts_key(), self.field.name, instance.user_id, instance.key_id, stored)
            hit = opened[self.field.attname] = (stored, plain)
        return hit[1]

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class SealedBundleField(models.JSONField):
    """A wrapped key bundle, sealed at rest with the accounts key; reads give the plain bundle."""

    descriptor_class = _OpenedOnRead

    def value_from_object(self, obj):
        # What serialisers (dumpdata) write: the sealed form, as the database holds it.
        return obj.__dict__.get(self.attname)

    def pre_save(self, model_instance, add):
        stored = model_instance.__dict__.get(self.attname)
        if stored is None or is_sealed_bundle(stored):
            return stored
        sealed = seal_bundle(accounts_key(), self.name, model_instance.user_id, model_instance.key_id, stored)
        model_instance.__dict__[self.attname] = sealed
        model_instance.__dict__.setdefault("_opened_bundles", {})[self.attname] = (sealed, stored)
        return sealed


def stored_in_clear(bundle) -> bool:
    return any(not is_sealed_bundle(bundle.__dict__.get(f)) for f in ("wrapped", "recovery_wrapped"))


# Password hashes ------------------------------------------------------------------------------------


class SealedPasswordHasher(BasePasswordHasher):
    """The hash of the next hasher in PASSWORD_HASHERS (Argon2), sealed with the accounts key: without the
    key store a stored hash cannot be checked against any guess. A hash of another kind (from before) is
    checked as it is and made again sealed at the next successful sign-in (Django's must_update)."""

    algorithm = SEALED_HASH

    def _inner(self) -> BasePasswordHasher:
        return next(h for h in get_hashers() if h.algorithm != self.algorithm)

    def salt(self):
        return self._inner().salt()

    def encode(self, password, salt):
        inner = self._inner().encode(password, salt)
        return f"{self.algorithm}${seal(accounts_key(), PASSWORD_AAD, inner.encode())}"

    def _opened(self, encoded) -> str | None:
        algorithm, _sep, sealed = encoded.partition("$")
        if algorithm != self.algorithm:
            return None
        try:
            return open_sealed(accounts_key(), PASSWORD_AAD, sealed).decode()
        except (OpenFailed, KeyUnavailable):
            log.error("a sealed password hash does not open with the accounts key in use")
            return None

    def verify(self, password, encoded):
        inner = self._opened(encoded)
        if inner is None:
            return False
        try:
            hasher = identify_hasher(inner)
        except ValueError:
            return False
        return hasher.algorithm != self.algorithm and hasher.verify(password, inner)

    def must_update(self, encoded):
        inner = self._opened(encoded)
        if inner is None:
            return False
        hasher = identify_hasher(inner)
        return hasher.algorithm != self._inner().algorithm or hasher.must_update(inner)

    def harden_runtime(self, password, encoded):
        pass  # the inner hash does the same work whatever the sealed value holds

    def decode(self, encoded):
        return {"algorithm": self.algorithm, "hash": "", "salt": ""}

    def safe_summary(self, encoded):
        return {"algorithm": self.algorithm}


def seal_hash(key: bytes, encoded: str) -> str:
    """For the data migration: an existing hash (of any kind Django knows), sealed as it is."""
    return f"{SEALED_HASH}${seal(key, PASSWORD_AAD, encoded.encode())}"


def unseal_hash(key: bytes, encoded: str) -> str:
    return open_sealed(key, PASSWORD_AAD, encoded.partition("$")[2]).decode()
