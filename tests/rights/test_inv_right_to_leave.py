"""Invariant 9 (right to leave): after deletion, a copy of the main database taken before it cannot be read
without the destroyed keys. And with the key store in a database of its own, the main database alone
holds no key material at all, so its backups are useless on their own."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from mend.cases.models import Case
from mend.core import at_rest
from mend.keystore import services as keystore
from mend.rights import services as rights
from tests.keystore.helpers import SECRETS, dump, fill_every_sealed_field, purpose

ROOT = Path(__file__).resolve().parents[2]
DELETED = "This information was deleted."
UNAVAILABLE = "This information cannot be shown right now."


def copy_of_the_database(tmp_path) -> Path | None:
    """A byte-for-byte copy of the SQLite database, as a backup would take it (None on PostgreSQL, where
    the test reads the sealed columns with SQL instead, as a dump of those tables would hold them)."""
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    target = tmp_path / "backup.sqlite3"
    with sqlite3.connect(target) as copy:
        connection.connection.backup(copy)
    return target


@pytest.mark.django_db(transaction=True)
def test_inv_right_to_leave_a_copy_taken_before_deletion_cannot_be_read_after_it(cast, tmp_path):
    # Given a case whose every sealed field holds something, and a copy of the database taken now
    fill_every_sealed_field(cast)
    case_id = cast.case.pk
    before = dump(case_id)
    backup = copy_of_the_database(tmp_path)
    if backup is not None:
        raw = backup.read_bytes()
        for plain in SECRETS.values():
            assert plain.encode() not in raw, "the copy holds plain text"
        with sqlite3.connect(backup) as copy:
            stored = copy.execute("SELECT intake_notes FROM cases_case WHERE id = ?", [case_id]).fetchone()[0]
        assert stored == before[("cases_case", "intake_notes")][0]
    # ... which opens with the case's key while it exists
    for (table, column), values in before.items():
        for value in values:
            assert SECRETS[(table, column)] in at_rest.open_for_case(case_id, purpose(table, column), value)

    # When both parties ask for their information to be deleted
    rights.participant_data_delete(actor=cast.harmed.user, place=cast.harmed)
    rights.participant_data_delete(actor=cast.responsible.user, place=cast.responsible)

    # Then nothing in the copy opens any more, with the master key and the key store as they are now
    for (table, column), values in before.items():
        for value in values:
            with pytest.raises(keystore.CaseDataDeleted):
                at_rest.open_for_case(case_id, purpose(table, column), value)
    # ... and restoring the old sealed values into the database brings back only the placeholder
    with connection.cursor() as cursor:
        old = before[("cases_case", "intake_notes")][0]
        cursor.execute("UPDATE cases_case SET intake_notes = %s WHERE id = %s", [old, case_id])
    assert Case.objects.get(pk=case_id).intake_notes == DELETED


def run(step: str, *args, env: dict) -> dict:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.keystore.scenario", step, *map(str, args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def environment(tmp_path, *, main: Path, keys: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEND_KEYSTORE_DATABASE_URL")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        DATABASE_URL=f"sqlite:///{main}",
        MEND_VAR_DIR=str(tmp_path / "var"),
        MEND_MASTER_KEY="qOOSi0k8WzG3Ml0bN7wq3n3OvFfIrTz4kUr0ZbWUMBw",
    )
    if keys is not None:
        env["MEND_KEYSTORE_DATABASE_URL"] = f"sqlite:///{keys}"
    return env


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def backup(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    return target


def test_inv_right_to_leave_with_its_own_key_store_the_main_database_alone_is_useless(tmp_path):
    main, keys = tmp_path / "main.sqlite3", tmp_path / "keys.sqlite3"
    env = environment(tmp_path, main=main, keys=keys)

    # Given Mend running with its key store in a database of its own
    case_id = run("setup", env=env)["case"]
    assert "keystore_datakey" not in tables(main), "the main database has no key table"
    assert "keystore_datakey" in tables(keys) and "cases_case" not in tables(keys)
    with sqlite3.connect(keys) as db:
        assert (
            db.execute("SELECT COUNT(*) FROM keystore_datakey WHERE case_id = ?", [case_id]).fetchone()[0]
            == 1
        )
    copy = backup(main, tmp_path / "main-backup.sqlite3")
    for plain in SECRETS.values():
        assert plain.encode() not in copy.read_bytes()

    # The backup, restored beside the live key store, reads as it did
    restored = run("read", case_id, env=environment(tmp_path, main=copy, keys=keys))
    assert restored["cases_case.intake_notes"] == SECRETS[("cases_case", "intake_notes")]
    assert restored["cases_participant.contact_method"] == SECRETS[("cases_participant", "contact_method")]

    # The backup alone, with the master key but without the key store, opens nothing
    empty = tmp_path / "empty-keys.sqlite3"
    alone = environment(tmp_path, main=copy, keys=empty)
    run("migrate", env={**alone, "DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.sqlite3'}"})
    assert set(run("read", case_id, env=alone).values()) == {UNAVAILABLE}

    # When the case is closed and the person harmed asks for deletion
    assert run("delete", case_id, env=env) == {"shredded": True}

    # Then the backup taken before, with the key store and master key as they are now, opens nothing
    after = run("read", case_id, env=environment(tmp_path, main=copy, keys=keys))
    assert set(after.values()) == {DELETED}
    with sqlite3.connect(keys) as db:
        wrapped = db.execute("SELECT wrapped FROM keystore_datakey WHERE case_id = ?", [case_id]).fetchone()[
            0
        ]
    assert wrapped is None


def test_it_seals_the_plain_values_of_an_earlier_install_when_migrating_and_opens_them_going_back(tmp_path):
    result = run("legacy", env=environment(tmp_path, main=tmp_path / "old.sqlite3", keys=None))
    plain = result["plain"]
    answers = "assessments_assessment.answers"
    for name, values in result["backward"].items():
        found = [json.loads(v) for v in values] if name == answers else values
        assert (json.loads(plain[name]) if name == answers else plain[name]) in found, name
    for name, values in result["forward"]["raw"].items():
        assert values and all(v.startswith("v1:") for v in values), name
    for name, value in result["forward"]["read"].items():
        assert value == plain[name], name
    assert result["forward"]["keys"] == 1
