"""Health, headers, settings: what every response and every start must get right."""

import pytest
from django.test import Client

from mend import env
from mend.core import validators
from mend.core.errors import DomainError


def test_it_reports_health_after_checking_the_database(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_reports_an_unhealthy_database(db, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("database down")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", broken_cursor)
        response = Client().get("/healthz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


def test_it_sends_strict_security_headers_on_every_page(cast):
    for client, path in [(Client(), "/account/sign-in/"), (cast.client("facilitator"), "/cases/")]:
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Cache-Control"] == "no-store"
        assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_it_has_no_inline_script_or_style_in_pages(cast):
    for who, path in [
        ("facilitator", f"/cases/{cast.case.reference}/"),
        ("harmed", f"/cases/{cast.case.reference}/"),
        ("facilitator", "/cases/new/"),
        ("facilitator", "/"),
    ]:
        html = cast.client(who).get(path).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert " onclick=" not in html


def test_it_gives_participant_pages_a_quick_exit_and_staff_pages_none(cast):
    participant_page = cast.client("harmed").get(f"/cases/{cast.case.reference}/").content.decode()
    staff_page = cast.client("facilitator").get(f"/cases/{cast.case.reference}/").content.decode()
    assert 'id="quick-exit"' in participant_page and "quick-exit.js" in participant_page
    assert 'id="quick-exit"' not in staff_page


def test_it_never_says_victim_or_offender_on_screen(cast):
    for who in ["harmed", "responsible", "facilitator"]:
        html = cast.client(who).get(f"/cases/{cast.case.reference}/").content.decode().lower()
        assert "victim" not in html and "offender" not in html


@pytest.mark.parametrize("code", ["NZ", "gb", "AU-NSW", " US-CA "])
def test_it_accepts_iso_3166_codes(code):
    assert validators.jurisdiction(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["XX", "ZZ-ABC", "New Zealand", ""])
def test_it_refuses_unknown_jurisdictions_with_an_example(code):
    with pytest.raises(DomainError, match="Use codes like"):
        validators.jurisdiction(code)


def test_it_refuses_a_short_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MEND_SECRET_KEY", "short")
    with pytest.raises(env.ConfigError, match="MEND_SECRET_KEY"):
        env.read()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
        ("MEND_DEBUG", "maybe"),
        ("MEND_INVITATION_DAYS", "0"),
        ("MEND_QUICK_EXIT_URL", "javascript:alert(1)"),
    ],
)
def test_it_refuses_settings_it_cannot_use(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    with pytest.raises(env.ConfigError, match=name):
        env.read()


def test_it_makes_and_keeps_a_secret_key_for_embedded_mode(monkeypatch, tmp_path):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("MEND_SECRET_KEY", raising=False)
    first = env.read().secret_key
    assert len(first) >= 32 and env.read().secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_it_refuses_demo_mode_on_a_public_address(monkeypatch, tmp_path):
    monkeypatch.setenv("MEND_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MEND_DEMO", "1")
    monkeypatch.setenv("MEND_ALLOWED_HOSTS", "mend.example.org")
    with pytest.raises(env.ConfigError, match="MEND_DEMO"):
        env.read()


def test_it_keeps_invitation_tokens_out_of_the_logs():
    import logging

    from mend.core.logfilters import RedactTokens

    record = logging.LogRecord(
        "django.request",
        logging.ERROR,
        __file__,
        1,
        "Internal Server Error: %s",
        ("/join/AbC-secret_123/",),
        None,
    )
    RedactTokens().filter(record)
    assert record.getMessage() == "Internal Server Error: /join/[redacted]/"
