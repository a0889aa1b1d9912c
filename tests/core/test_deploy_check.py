"""`mend check --deploy` is clean with production settings, read from a production environment in a process
of its own, exactly as a deployment reads them; the one silenced check is silenced for a written reason."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEND = Path(sys.executable).parent / "mend"
SCALED = {
    "DATABASE_URL": "postgres://mend:secret@db.internal:5432/mend",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "MEND_INSTALL_ID": "riverbend-install-0001",
}


def production_env(tmp_path: Path, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        MEND_VAR_DIR=str(tmp_path),
        MEND_HTTPS="1",
        MEND_SECRET_KEY=secrets.token_urlsafe(50),
        MEND_ALLOWED_HOSTS="mend.example.org",
        MEND_AUDIT_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        MEND_MASTER_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        MEND_TRUSTED_PROXIES="127.0.0.1",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MEND), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(env: dict[str, str]) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "n: getattr(s, n) for n in ("
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', "
        "'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', 'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', "
        "'SECURE_REFERRER_POLICY', 'X_FRAME_OPTIONS', 'SILENCED_SYSTEM_CHECKS', 'CSRF_FAILURE_VIEW', "
        "'MEND_SESSION_IDLE_MINUTES', 'MEND_SESSION_MAX_HOURS', 'SESSION_COOKIE_AGE', 'RATELIMIT_USE_CACHE')"
        "} | {'CACHE': s.CACHES['default']['BACKEND'], "
        "'MIDDLEWARE': [m for m in s.MIDDLEWARE if m.startswith('mend.')]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "mend.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["embedded", "scaled"])
def test_it_passes_the_deploy_checks_with_production_settings(tmp_path, mode):
    done = deploy_check(production_env(tmp_path, **(SCALED if mode == "scaled" else {})))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (1 silenced)." in done.stdout


def test_it_silences_only_hsts_preloading_and_only_until_the_operator_opts_in(tmp_path):
    assert production_settings(production_env(tmp_path))["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    done = deploy_check(production_env(tmp_path, MEND_HSTS_PRELOAD="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_it_would_fail_the_deploy_checks_without_https_or_with_debug(tmp_path):
    # The control: the same checks do catch settings that are not fit for production.
    plain = deploy_check(production_env(tmp_path, MEND_HTTPS=None))
    assert plain.returncode != 0
    for code in ("security.W008", "security.W012", "security.W016"):
        assert code in plain.stderr, code
    debug = deploy_check(production_env(tmp_path, MEND_DEBUG="1"))
    assert debug.returncode != 0 and "security.W018" in debug.stderr


def test_it_warns_behind_https_when_no_proxy_is_trusted(tmp_path):
    done = deploy_check(production_env(tmp_path, MEND_TRUSTED_PROXIES=None))
    assert done.returncode != 0
    assert "mend.W001" in done.stderr and "Set MEND_TRUSTED_PROXIES" in done.stderr


def test_it_warns_when_servers_sharing_postgresql_would_each_make_their_own_install_id(tmp_path):
    done = deploy_check(production_env(tmp_path, **{**SCALED, "MEND_INSTALL_ID": None}))
    assert done.returncode != 0
    assert "mend.W002" in done.stderr and "Set MEND_INSTALL_ID" in done.stderr
    # Embedded (SQLite, one server): the generated one is fine.
    assert deploy_check(production_env(tmp_path, MEND_INSTALL_ID=None)).returncode == 0


def test_it_hardens_cookies_and_transport_in_production(tmp_path):
    found = production_settings(production_env(tmp_path, MEND_SESSION_IDLE_MINUTES="20", **SCALED))
    assert found["DEBUG"] is False
    assert found["SESSION_COOKIE_SECURE"] is found["CSRF_COOKIE_SECURE"] is True
    assert found["SESSION_COOKIE_HTTPONLY"] is found["CSRF_COOKIE_HTTPONLY"] is True
    assert found["SESSION_COOKIE_SAMESITE"] == found["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and found["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["SECURE_REFERRER_POLICY"] == "same-origin" and found["X_FRAME_OPTIONS"] == "DENY"
    assert found["CSRF_FAILURE_VIEW"] == "mend.core.csrf.csrf_failure"
    assert (found["MEND_SESSION_IDLE_MINUTES"], found["MEND_SESSION_MAX_HOURS"]) == (20, 12)
    assert found["SESSION_COOKIE_AGE"] == 12 * 3600
    assert "mend.core.middleware.SessionTimeoutMiddleware" in found["MIDDLEWARE"]
    # Scaled: every server process counts tries in the same Redis.
    assert found["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert found["RATELIMIT_USE_CACHE"] == "default"
