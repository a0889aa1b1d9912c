"""The benchmark's bare baselines (mend.bench) answer without sign-in, so they exist only with MEND_BENCH=1,
which Mend refuses anywhere but on a local address."""

import importlib

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.urls import clear_url_caches

from mend import env, routing, urls

BASELINES = ["/bench/json/", "/bench/row/"]


def websocket_routes() -> set[str]:
    return {str(pattern.pattern) for pattern in routing.websocket_urlpatterns}


@pytest.mark.parametrize("path", BASELINES)
def test_it_answers_404_for_a_baseline_without_the_flag(db, path):
    assert Client().get(path).status_code == 404


def test_it_has_no_baseline_websocket_without_the_flag():
    assert not {route for route in websocket_routes() if route.startswith("ws/bench/")}


def test_it_mounts_the_baselines_only_with_the_flag(db):
    try:
        with override_settings(MEND_BENCH=True):
            importlib.reload(urls)
            importlib.reload(routing)
            clear_url_caches()
            assert all(Client().get(path).status_code == 200 for path in BASELINES)
            assert {"ws/bench/echo/", "ws/bench/group/<str:name>/"} <= websocket_routes()
    finally:
        importlib.reload(urls)
        importlib.reload(routing)
        clear_url_caches()
    assert all(Client().get(path).status_code == 404 for path in BASELINES)


@pytest.mark.parametrize(
    "setting", [("MEND_ALLOWED_HOSTS", "mend.example.org"), ("MEND_HTTPS", "1")], ids=["public host", "https"]
)
def test_it_refuses_the_bench_flag_off_a_local_server(monkeypatch, tmp_path, setting):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MEND_BENCH", "1")
    monkeypatch.setenv(*setting)
    with pytest.raises(env.ConfigError, match="MEND_BENCH"):
        env.read()


def test_it_takes_the_bench_flag_on_a_local_server(monkeypatch, tmp_path):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MEND_BENCH", "1")
    monkeypatch.setenv("MEND_ALLOWED_HOSTS", "127.0.0.1,localhost")
    assert env.read().bench is True
