"""The embedded database's connections are reused between requests, and only when they are clean."""

import sqlite3

import pytest
from django.db import connections

from mend import settings as mend_settings
from mend.core.sqlite import base as pooled

pytestmark = pytest.mark.django_db  # lets the test open connections of its own


def _settings(name: str) -> dict:
    """The embedded database's settings, as settings.py makes them, for another file."""
    return {**connections["default"].settings_dict, **mend_settings._database(f"sqlite:///{name}")}


@pytest.fixture
def wrapper_for(tmp_path):
    """New Django connections to a SQLite file of the test's own, as each request under ASGI makes."""
    settings = _settings(str(tmp_path / "pool.sqlite3"))
    assert settings["ENGINE"] == "mend.core.sqlite"
    made = []

    def make():
        wrapper = pooled.DatabaseWrapper(settings, alias="pool-test")
        made.append(wrapper)
        return wrapper

    yield make
    for wrapper in made:
        wrapper.close()
    pooled.POOLS.clear()


def _raw(wrapper):
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    return wrapper.connection


def test_it_hands_a_closed_connection_to_the_next_request(wrapper_for):
    first = wrapper_for()
    raw = _raw(first)
    first.close()
    assert first.connection is None
    assert _raw(wrapper_for()) is raw


def test_it_keeps_the_pragmas_of_a_reused_connection(wrapper_for):
    first = wrapper_for()
    _raw(first)
    first.close()
    second = wrapper_for()
    with second.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


def test_it_closes_a_connection_left_in_a_transaction(wrapper_for):
    first = wrapper_for()
    raw = _raw(first)
    raw.execute("BEGIN")
    first.close()
    with pytest.raises(sqlite3.ProgrammingError):
        raw.execute("SELECT 1")
    assert _raw(wrapper_for()) is not raw


def test_it_closes_a_connection_that_had_an_error(wrapper_for):
    first = wrapper_for()
    raw = _raw(first)
    first.errors_occurred = True
    first.close()
    assert _raw(wrapper_for()) is not raw


def test_it_keeps_no_more_than_its_limit(wrapper_for, monkeypatch):
    monkeypatch.setattr(pooled, "IDLE_MOST", 2)
    pooled.POOLS.clear()
    wrappers = [wrapper_for() for _ in range(3)]
    raws = [_raw(w) for w in wrappers]
    for wrapper in wrappers:
        wrapper.close()
    with pytest.raises(sqlite3.ProgrammingError):
        raws[2].execute("SELECT 1")  # the third found the pool full and was closed
    again = {id(_raw(wrapper_for())) for _ in range(2)}
    assert again == {id(raws[0]), id(raws[1])}


def test_it_never_pools_an_in_memory_database():
    wrapper = pooled.DatabaseWrapper({**_settings("x"), "NAME": ":memory:"}, alias="memory-test")
    assert not wrapper._pooled()


def test_it_pools_postgresql_connections_instead_of_keeping_them():
    database = mend_settings._database("postgres://mend@db.invalid:5432/mend")
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 10}
