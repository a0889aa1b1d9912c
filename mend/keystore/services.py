"""The key store: a case's data key (made on first use), its destruction (crypto-shredding), and the
rotation of the master key that wraps every data key."""

import logging

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from mend import audit
from mend.audit.codes import AuditCode
from mend.core.at_rest import CaseDataDeleted, KeyUnavailable
from mend.keystore import crypto
from mend.keystore.models import DataKey

log = logging.getLogger(__name__)

PURPOSE = "case"


class RotationError(Exception):
    """A master key rotation cannot go on; nothing was changed."""


def alias(model=DataKey) -> str:
    """The database the key store lives in: its own one when MEND_KEYSTORE_DATABASE_URL is set."""
    return router.db_for_write(model) or "default"


def data_key(case_id: int, *, create: bool, purpose: str = PURPOSE, model=DataKey) -> bytes:
    """The case's data key, unwrapped. Made on first use when `create`; a destroyed key raises
    CaseDataDeleted, and a key the master key cannot open raises KeyUnavailable."""
    db = alias(model)
    master = settings.MEND_MASTER_KEY
    row = model.objects.using(db).filter(case_id=case_id, purpose=purpose).first()
    if row is None:
        if not create:
            raise KeyUnavailable()
        key = crypto.new_data_key()
        try:
            with transaction.atomic(using=db):
                model.objects.using(db).create(
                    case_id=case_id,
                    purpose=purpose,
                    wrapped=crypto.wrap(master, case_id=case_id, purpose=purpose, data_key=key),
                    master_key_id=crypto.master_key_id(master),
                )
            return key
        except IntegrityError:  # made by another request at the same moment: use theirs
            row = model.objects.using(db).get(case_id=case_id, purpose=purpose)
    if row.destroyed_at is not None:
        raise CaseDataDeleted()
    return _unwrap_row(row, master)


def _unwrap_row(row, master: bytes) -> bytes:
    wanted = crypto.master_key_id(master)
    try:
        if row.master_key_id == wanted and row.wrapped is not None:
            return crypto.unwrap(master, case_id=row.case_id, purpose=row.purpose, wrapped=row.wrapped)
        if row.next_master_key_id == wanted and row.wrapped_next is not None:
            return crypto.unwrap(master, case_id=row.case_id, purpose=row.purpose, wrapped=row.wrapped_next)
    except crypto.UnwrapFailed:
        pass
    raise KeyUnavailable()


def case_keys_destroyed(case_id: int) -> bool:
    return DataKey.objects.using(alias()).filter(case_id=case_id, destroyed_at__isnull=False).exists()


@transaction.atomic
def case_keys_destroy(*, actor, case) -> int:
    """Crypto-shredding: the case's wrapped data keys are wiped, so everything sealed with them, in this
    database and in every copy of it, can no longer be read by anyone. The row stays as a tombstone (no key
    material), so that nothing new is sealed for the case afterwards. Returns how many keys were destroyed."""
    db = alias()
    now = timezone.now()
    with transaction.atomic(using=db):
        _overwrite_deleted_content(db)
        rows = DataKey.objects.using(db).select_for_update().filter(case_id=case.pk)
        destroyed = rows.filter(destroyed_at__isnull=True).update(
            wrapped=None, wrapped_next=None, master_key_id="", next_master_key_id="", destroyed_at=now
        )
        if not rows.filter(purpose=PURPOSE).exists():
            DataKey.objects.using(db).create(case_id=case.pk, purpose=PURPOSE, destroyed_at=now)
        transaction.on_commit(lambda: _checkpoint(db), using=db)
    audit.record(
        actor=actor, code=AuditCode.CASE_KEYS_DESTROYED, target=case, case=case, data={"keys": destroyed}
    )
    return destroyed


def _overwrite_deleted_content(db: str) -> None:
    """SQLite keeps deleted bytes in free space unless told otherwise; the wrapped key must not linger."""
    connection = connections[db]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


def _checkpoint(db: str) -> None:
    """Best effort: copy the write-ahead log into the database file and empty it, so old pages holding the
    wrapped key are overwritten. Another reader may keep it from finishing; the next checkpoint will."""
    connection = connections[db]
    if connection.vendor != "sqlite":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception:  # noqa: BLE001 - never fail a deletion that has already happened
        log.warning("could not checkpoint the key store's write-ahead log after destroying keys")


# Master key rotation ---------------------------------------------------------------------------------


def key_status() -> dict:
    """How many live data keys each master key wraps, and how many are half-way through a rotation."""
    db = alias()
    live = DataKey.objects.using(db).filter(destroyed_at__isnull=True)
    by_master: dict[str, int] = {}
    for master_id in live.values_list("master_key_id", flat=True):
        by_master[master_id] = by_master.get(master_id, 0) + 1
    return {
        "current": crypto.master_key_id(settings.MEND_MASTER_KEY),
        "by_master_key": by_master,
        "rotating": live.exclude(next_master_key_id="").count(),
        "destroyed": DataKey.objects.using(db).filter(destroyed_at__isnull=False).count(),
    }


def master_key_rotate(*, new_key: bytes) -> int:
    """Step 1 of 2: every live data key is also wrapped under the new master key, beside its present
    wrapping, in one transaction, after checking that each opens under the master key in use. Servers keep
    working with the old key meanwhile, and an interruption leaves every key as it was. Returns the count."""
    current = settings.MEND_MASTER_KEY
    if len(new_key) != crypto.KEY_BYTES:
        raise RotationError("The new master key must be 32 bytes.")
    if new_key == current:
        raise RotationError("The new key is the master key in use now: give a new one.")
    new_id = crypto.master_key_id(new_key)
    db = alias()
    with transaction.atomic(using=db):
        rows = list(
            DataKey.objects.using(db).select_for_update().filter(destroyed_at__isnull=True).order_by("pk")
        )
        keys, failed = {}, []
        for row in rows:
            try:
                keys[row.pk] = _unwrap_row(row, current)
            except KeyUnavailable:
                failed.append(row.case_id)
        if failed:
            raise RotationError(
                f"{len(failed)} data keys do not open under the master key in use (cases "
                f"{', '.join(map(str, failed[:10]))}{'…' if len(failed) > 10 else ''}); nothing was changed. "
                "If a rotation is half done, finish it first (mend keys rotate --finish --old-key-file)."
            )
        for row in rows:
            row.wrapped_next = crypto.wrap(
                new_key, case_id=row.case_id, purpose=row.purpose, data_key=keys[row.pk]
            )
            row.next_master_key_id = new_id
        DataKey.objects.using(db).bulk_update(rows, ["wrapped_next", "next_master_key_id"], batch_size=500)
    return len(rows)


def master_key_rotation_finish(*, old_key: bytes) -> int:
    """Step 2 of 2, after MEND_MASTER_KEY holds the new key: every live data key ends up wrapped under it
    alone. Keys made between the two steps (wrapped only under the old key) are re-wrapped with `old_key`.
    One transaction, after every key has been opened; an interruption changes nothing. Returns the count."""
    current = settings.MEND_MASTER_KEY
    if old_key == current:
        raise RotationError(
            "MEND_MASTER_KEY still holds the old key. Set it to the new key, restart Mend, then finish."
        )
    current_id, old_id = crypto.master_key_id(current), crypto.master_key_id(old_key)
    db = alias()
    with transaction.atomic(using=db):
        rows = list(
            DataKey.objects.using(db).select_for_update().filter(destroyed_at__isnull=True).order_by("pk")
        )
        keys, failed = {}, []
        for row in rows:
            try:
                if row.master_key_id == old_id and row.next_master_key_id != current_id:
                    keys[row.pk] = crypto.unwrap(
                        old_key, case_id=row.case_id, purpose=row.purpose, wrapped=row.wrapped
                    )
                else:
                    keys[row.pk] = _unwrap_row(row, current)
            except (KeyUnavailable, crypto.UnwrapFailed):
                failed.append(row.case_id)
        if failed:
            raise RotationError(
                f"{len(failed)} data keys open neither under the master key in use nor under the old key "
                f"given (cases {', '.join(map(str, failed[:10]))}{'…' if len(failed) > 10 else ''}); "
                "nothing was changed."
            )
        for row in rows:
            row.wrapped = crypto.wrap(
                current, case_id=row.case_id, purpose=row.purpose, data_key=keys[row.pk]
            )
            row.master_key_id = current_id
            row.wrapped_next, row.next_master_key_id = None, ""
        DataKey.objects.using(db).bulk_update(
            rows, ["wrapped", "master_key_id", "wrapped_next", "next_master_key_id"], batch_size=500
        )
    return len(rows)
