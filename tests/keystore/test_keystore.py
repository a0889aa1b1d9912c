"""The key store: data keys wrapped under the master key, destroyed for good, and a master key rotation
that never leaves a data key without a wrapping someone holds the key to."""

import os
import stat
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Case
from mend.keystore import crypto, routers
from mend.keystore import services as keystore
from mend.keystore.models import DataKey
from mend.keystore.routers import KeystoreRouter

NOTES = "Met at the community centre; prefers mornings."
UNAVAILABLE = "This information cannot be shown right now."


def new_case(cast, notes=NOTES) -> Case:
    return case_services.case_create(
        actor=cast.coordinator, program=cast.program, harm_category="doxxing", jurisdictions=["NZ"],
        referral_source="self", intake_notes=notes,
    )  # fmt: skip


def notes_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).intake_notes


def write_key(tmp_path, name: str, key: bytes) -> str:
    import base64

    path = tmp_path / name
    path.write_text(base64.urlsafe_b64encode(key).decode())
    return str(path)


def test_it_wraps_each_data_key_under_the_master_key_for_its_own_case_only(cast):
    first, second = new_case(cast), new_case(cast)
    row = DataKey.objects.get(case_id=first.pk)
    assert row.master_key_id == crypto.master_key_id(cast_master())
    DataKey.objects.filter(case_id=second.pk).update(wrapped=row.wrapped)
    assert notes_of(first) == NOTES
    assert notes_of(second) == UNAVAILABLE


def cast_master() -> bytes:
    from django.conf import settings

    return settings.MEND_MASTER_KEY


def test_it_destroys_a_case_key_leaving_a_tombstone_and_an_event_that_names_nothing(cast):
    case = new_case(cast)
    assert keystore.case_keys_destroy(actor=cast.coordinator, case=case) == 1
    row = DataKey.objects.get(case_id=case.pk)
    assert row.wrapped is None and row.wrapped_next is None and row.master_key_id == ""
    assert row.destroyed_at is not None
    event = AuditEvent.objects.get(code="case.keys_destroyed")
    assert event.payload == {"keys": 1} and event.target_id == str(case.pk)
    call_command("audit", "verify", stdout=StringIO())
    # A case that never had a key gets a tombstone too, so nothing is sealed for it afterwards.
    quiet = new_case(cast, notes="")
    assert keystore.case_keys_destroy(actor=cast.coordinator, case=quiet) == 0
    with pytest.raises(keystore.CaseDataDeleted):
        keystore.data_key(quiet.pk, create=True)


def test_it_rotates_the_master_key_in_two_steps_without_losing_a_key(cast, settings, tmp_path):
    old, new = settings.MEND_MASTER_KEY, os.urandom(32)
    before = new_case(cast)
    out = StringIO()
    call_command("keys", "rotate", "--new-key-file", write_key(tmp_path, "new", new), stdout=out)
    assert "Set MEND_MASTER_KEY" in out.getvalue() and "--finish --old-key-file" in out.getvalue()
    assert notes_of(before) == NOTES, "servers keep working with the old key after step 1"
    between = new_case(cast)  # made before the switch: wrapped under the old key only

    settings.MEND_MASTER_KEY = new  # the operator switches and restarts
    assert notes_of(before) == NOTES
    assert notes_of(between) == UNAVAILABLE, "until step 2, which re-wraps it with the old key"
    call_command("keys", "rotate", "--finish", "--old-key-file", write_key(tmp_path, "old", old), stdout=out)
    assert notes_of(before) == NOTES and notes_of(between) == NOTES
    new_id = crypto.master_key_id(new)
    assert set(DataKey.objects.values_list("master_key_id", "next_master_key_id")) == {(new_id, "")}
    assert not DataKey.objects.filter(wrapped_next__isnull=False).exists()

    settings.MEND_MASTER_KEY = old
    assert notes_of(before) == UNAVAILABLE, "the old key opens nothing any more"


def test_it_changes_nothing_when_a_data_key_does_not_open(cast, tmp_path):
    good, bad = new_case(cast), new_case(cast)
    DataKey.objects.filter(case_id=bad.pk).update(wrapped=os.urandom(60))
    with pytest.raises(CommandError, match="1 data keys do not open"):
        call_command("keys", "rotate", "--new-key-file", write_key(tmp_path, "new", os.urandom(32)))
    assert not DataKey.objects.exclude(next_master_key_id="").exists()
    assert notes_of(good) == NOTES


def test_it_changes_nothing_when_a_rotation_is_interrupted(cast, settings, monkeypatch):
    cases = [new_case(cast) for _ in range(3)]
    before = {r.pk: bytes(r.wrapped) for r in DataKey.objects.all()}
    real_wrap, calls = crypto.wrap, []

    def wrap_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl+C, half-way
        return real_wrap(*args, **kwargs)

    monkeypatch.setattr(crypto, "wrap", wrap_then_fail)
    old, new = settings.MEND_MASTER_KEY, os.urandom(32)
    with pytest.raises(KeyboardInterrupt):
        keystore.master_key_rotate(new_key=new)
    assert not DataKey.objects.exclude(next_master_key_id="").exists()

    monkeypatch.setattr(crypto, "wrap", real_wrap)
    keystore.master_key_rotate(new_key=new)
    settings.MEND_MASTER_KEY = new
    calls.clear()
    monkeypatch.setattr(crypto, "wrap", wrap_then_fail)
    with pytest.raises(KeyboardInterrupt):
        keystore.master_key_rotation_finish(old_key=old)
    assert {r.pk: bytes(r.wrapped) for r in DataKey.objects.all()} == before
    assert all(notes_of(c) == NOTES for c in cases), "still readable through the new key's wrapping"


def test_it_refuses_to_finish_before_the_master_key_is_switched(cast, settings, tmp_path):
    new_case(cast)
    current = write_key(tmp_path, "current", settings.MEND_MASTER_KEY)
    with pytest.raises(CommandError, match="still holds the old key"):
        call_command("keys", "rotate", "--finish", "--old-key-file", current)
    with pytest.raises(CommandError, match="the master key in use now"):
        call_command("keys", "rotate", "--new-key-file", current)
    with pytest.raises(CommandError, match="32 random bytes"):
        call_command("keys", "rotate", "--new-key-file", write_key(tmp_path, "short", b"too short"))


def test_it_generates_a_key_file_only_its_owner_can_read(tmp_path, db):
    path = tmp_path / "master.key"
    call_command("keys", "generate", str(path), stdout=StringIO())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    from mend.rights.management.commands.keys import read_key_file

    assert len(read_key_file(str(path))) == 32
    with pytest.raises(CommandError, match="never overwrites"):
        call_command("keys", "generate", str(path))


def test_it_reports_the_keys_each_master_key_wraps(cast):
    new_case(cast)
    out = StringIO()
    call_command("keys", "status", stdout=out)
    assert f"wrapped under {crypto.master_key_id(cast_master())} (in use)" in out.getvalue()


def test_it_routes_the_key_store_to_its_own_database_when_there_is_one(monkeypatch):
    router = KeystoreRouter()
    assert router.db_for_write(DataKey) is None
    monkeypatch.setattr(routers, "_separate", lambda: True)  # as when MEND_KEYSTORE_DATABASE_URL is set
    assert router.db_for_write(DataKey) == "keystore" and router.db_for_read(DataKey) == "keystore"
    assert router.db_for_write(Case) is None
    assert router.allow_migrate("keystore", "keystore") and not router.allow_migrate("default", "keystore")
    assert not router.allow_migrate("keystore", "cases") and router.allow_migrate("default", "cases")
