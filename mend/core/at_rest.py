"""Encryption at rest: model fields sealed with their case's data key, which the key store keeps.

A sealed value is stored as "v1:" + base64url(nonce ‖ AES-256-GCM ciphertext). The associated data binds it
to its model, field and case, so a value copied into another field or another case does not open.

Each model says where its case id is (`case_from="participant.case_id"`). Reading the attribute gives the
plain value, opened on first access (one key store read for all the sealed fields of that row). Once the
case's keys are destroyed (crypto-shredding) it gives DELETED instead, never an error. Writing plain text
to the attribute and saving seals it; empty values are stored empty. The database, a dump of it and
`values()` only ever hold the sealed form, and a query that tries to write or compare plain text fails.
"""

import base64
import binascii
import contextlib
import contextvars
import json
import logging
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import DatabaseError, models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext, gettext_lazy

from mend.core import registry
from mend.core.errors import Conflict, DomainError

log = logging.getLogger(__name__)

PREFIX = "v1:"
NONCE_BYTES = 12
DELETED = gettext_lazy("This information was deleted.")
UNAVAILABLE = gettext_lazy("This information cannot be shown right now.")


class CaseDataDeleted(Conflict):
    """The case's data keys were destroyed: what was sealed with them is gone, and nothing new is sealed."""

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(
            message or gettext("This case's information was deleted, so nothing more can be added.")
        )


class KeyUnavailable(DomainError):
    """The master key in use cannot unwrap the case's data key (a rotation half done, or a wrong key)."""

    status = 503

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(
            message or gettext("Mend cannot open this case's records just now. Please try again soon.")
        )


class OpenFailed(Exception):
    """A sealed value does not open with this key and associated data (wrong key, case, field, or edited)."""


def aad_for(purpose: str, case_id: int) -> bytes:
    """`purpose` names the field ("cases.case.intake_notes"), so a value cannot move between fields."""
    return f"mend/at-rest/v1|{purpose}|case:{int(case_id)}".encode()


def seal(key: bytes, aad: bytes, plaintext: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    body = nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    return PREFIX + base64.urlsafe_b64encode(body).decode().rstrip("=")


def open_sealed(key: bytes, aad: bytes, sealed: str) -> bytes:
    if not sealed.startswith(PREFIX):
        raise OpenFailed("not a sealed value")
    raw = sealed[len(PREFIX) :]
    try:
        body = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except (binascii.Error, ValueError, InvalidTag):
        raise OpenFailed("the sealed value does not open") from None


# Keys fetched inside `key_cache()` are kept until the block ends: for jobs and migrations that read many
# rows of a few cases. Outside it every row reads its key again, so a destroyed key never lingers in memory.
_key_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("mend_at_rest_keys", default=None)


@contextlib.contextmanager
def key_cache():
    token = _key_cache.set({})
    try:
        yield
    finally:
        _key_cache.reset(token)


def _case_key(case_id: int, *, create: bool) -> bytes:
    cache = _key_cache.get()
    if cache is not None and case_id in cache:
        return cache[case_id]
    key = registry.key_source()(case_id, create=create)
    if cache is not None:
        cache[case_id] = key
    return key


def seal_for_case(case_id: int, purpose: str, text: str) -> str:
    """Seals text under the case's data key (made on first use). Raises CaseDataDeleted once it is gone."""
    return seal(_case_key(case_id, create=True), aad_for(purpose, case_id), text.encode())


def open_for_case(case_id: int, purpose: str, sealed: str) -> str:
    """Opens a sealed value. Raises CaseDataDeleted after crypto-shredding, KeyUnavailable when the master
    key cannot unwrap the data key, and OpenFailed when the value was not sealed for this case and field."""
    return open_sealed(_case_key(case_id, create=False), aad_for(purpose, case_id), sealed).decode()


class Sealed(str):
    """A value as the database holds it: sealed, not to be sealed again."""


class Opened(str):
    """Text read from a sealed field; remembers the sealed form it came from, so saving the row again (or
    refresh_from_db) does not seal it anew, and a placeholder is never sealed as if it were data."""

    sealed: str = ""
    origin: tuple = ()
    state: str = "open"  # or "deleted", "unavailable"


class OpenedDict(dict):
    sealed: str = ""
    origin: tuple = ()
    state: str = "open"
    snapshot: str = ""


def is_deleted(value) -> bool:
    """Whether a value read from a sealed field is the placeholder of crypto-shredded data."""
    return getattr(value, "state", "open") == "deleted"


class _SealedAttribute(DeferredAttribute):
    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        stored = super().__get__(instance, cls)
        if isinstance(stored, Sealed):
            _open_row(instance)
            return instance.__dict__["_at_rest_open"][self.field.attname][1]
        return stored

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value
        instance.__dict__.get("_at_rest_open", {}).pop(self.field.attname, None)


def _sealed_fields(instance):
    return [f for f in instance._meta.concrete_fields if isinstance(f, SealedTextField)]


def _open_row(instance) -> None:
    """Opens every loaded sealed field of the row that is not open yet, with one read of the case's key."""
    opened = instance.__dict__.setdefault("_at_rest_open", {})
    waiting = [
        f
        for f in _sealed_fields(instance)
        if isinstance(instance.__dict__.get(f.attname), Sealed)
        and opened.get(f.attname, (None,))[0] is not instance.__dict__[f.attname]
    ]
    if not waiting:
        return
    case_id = waiting[0].case_id_of(instance)
    state, key = "open", None
    try:
        key = _case_key(case_id, create=False)
    except CaseDataDeleted:
        state = "deleted"
    except KeyUnavailable:
        state = "unavailable"
        log.warning("the data key of case %s cannot be unwrapped with the master key in use", case_id)
    for field in waiting:
        stored = instance.__dict__[field.attname]
        value_state = state
        plain = None
        if key is not None:
            try:
                plain = open_sealed(key, aad_for(field.purpose(instance), case_id), stored).decode()
            except OpenFailed:
                value_state = "unavailable"
                log.error("a sealed %s of case %s does not open", field.purpose(instance), case_id)
        opened[field.attname] = (stored, field.opened(instance, stored, plain, value_state, case_id))


class SealedTextField(models.TextField):
    """Text sealed with its case's data key. `case_from` is the path to the case id on the row."""

    descriptor_class = _SealedAttribute

    def __init__(self, *args, case_from: str, **kwargs):
        self.case_from = case_from
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["case_from"] = self.case_from
        return name, path, args, kwargs

    # Reading and writing plain values -------------------------------------------------------------

    def purpose(self, instance) -> str:
        return f"{instance._meta.label_lower}.{self.name}"

    def case_id_of(self, instance) -> int | None:
        value = instance
        for part in self.case_from.split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    def empty(self):
        return ""

    def is_empty(self, value) -> bool:
        return value is None or value == ""

    def encode(self, value) -> str:
        return str(value)

    def opened(self, instance, stored: str, plain: str | None, state: str, case_id: int):
        if state == "deleted":
            plain = gettext(DELETED)
        elif state == "unavailable":
            plain = gettext(UNAVAILABLE)
        value = Opened(plain)
        value.sealed, value.origin, value.state = stored, (self.purpose(instance), case_id), state
        return value

    def unchanged(self, value) -> bool:
        return True

    def pre_save(self, model_instance, add):
        stored = model_instance.__dict__.get(self.attname)
        case_id = self.case_id_of(model_instance)
        if isinstance(stored, Sealed):
            opened = model_instance.__dict__.get("_at_rest_open", {}).get(self.attname)
            if opened is None or opened[0] is not stored or self.unchanged(opened[1]):
                return stored
            stored = opened[1]  # a JSON value changed in place after it was read
        if (
            isinstance(stored, (Opened, OpenedDict))
            and stored.origin == (self.purpose(model_instance), case_id)
            and self.unchanged(stored)
        ):
            return Sealed(stored.sealed)
        if isinstance(stored, (Opened, OpenedDict)) and stored.state != "open":
            raise CaseDataDeleted()
        if self.is_empty(stored):
            return ""
        if case_id is None:
            raise ValueError(f"{self.purpose(model_instance)} needs its case saved before it can be sealed")
        sealed = Sealed(seal_for_case(case_id, self.purpose(model_instance), self.encode(stored)))
        model_instance.__dict__[self.attname] = sealed
        plain = self.opened(model_instance, sealed, self.encode(stored), "open", case_id)
        model_instance.__dict__.setdefault("_at_rest_open", {})[self.attname] = (sealed, plain)
        return sealed

    # The database side ----------------------------------------------------------------------------

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return self.empty()
        return Sealed(value)

    def get_prep_value(self, value):
        if self.is_empty(value):
            return ""
        if isinstance(value, Sealed):
            return str(value)
        raise TypeError(
            f"{self.model.__name__}.{self.name} is sealed at rest: set it on the row and save(), "
            "so that it is encrypted; it cannot be written or compared in a query"
        )

    def to_python(self, value):
        return value


class SealedJSONField(SealedTextField):
    """A JSON value (a dict of answers) sealed like SealedTextField; stored as sealed JSON text."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        super().__init__(*args, **kwargs)

    def empty(self):
        return {}

    def is_empty(self, value) -> bool:
        return value is None or value == "" or value == {}

    def encode(self, value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def opened(self, instance, stored, plain, state, case_id):
        value = OpenedDict(json.loads(plain) if state == "open" else {})
        value.sealed, value.origin, value.state = stored, (self.purpose(instance), case_id), state
        value.snapshot = self.encode(value)
        return value

    def unchanged(self, value) -> bool:
        return not isinstance(value, OpenedDict) or self.encode(value) == value.snapshot


_SEALED_FORM = re.compile(r"v1:[A-Za-z0-9_-]{38,}")


def seal_existing_rows(
    apps, schema_editor, *, model: str, case_path: str, fields: list[str], json_fields=(), reverse=False
):
    """For data migrations: seals the plain values already stored (or, going back, opens them again).
    Runs while the fields are still plain TextFields; JSON fields arrive here as JSON text, and an empty
    JSON object is stored empty, as the sealed field stores it."""
    data_key = registry.key_source()
    rows_model = apps.get_model(model)
    key_model = apps.get_model("keystore", "DataKey")
    db = schema_editor.connection.alias
    label = rows_model._meta.label_lower
    rows = rows_model.objects.using(db).values_list("pk", case_path, *fields).order_by("pk")
    try:
        with key_cache():
            for pk, case_id, *values in rows.iterator():
                changes = {}
                for field, value in zip(fields, values, strict=True):
                    aad = aad_for(f"{label}.{field}", case_id)
                    if not reverse and value == "{}" and field in json_fields:
                        changes[field] = ""
                    elif not reverse and value and not _SEALED_FORM.fullmatch(value):
                        changes[field] = seal(
                            data_key(case_id, create=True, model=key_model), aad, value.encode()
                        )
                    elif reverse and value and _SEALED_FORM.fullmatch(value):
                        key = data_key(case_id, create=False, model=key_model)
                        changes[field] = open_sealed(key, aad, value).decode()
                    elif reverse and not value and field in json_fields:
                        changes[field] = "{}"
                if changes:
                    rows_model.objects.using(db).filter(pk=pk).update(**changes)
    except (DatabaseError, KeyUnavailable) as error:
        raise RuntimeError(
            "The key store cannot be reached or has no table yet. With MEND_KEYSTORE_DATABASE_URL set, run "
            "`mend migrate --database keystore` first, then `mend migrate`; check MEND_MASTER_KEY."
        ) from error
