"""Fixtures every test shares: the cast of a case (tests/builders.py builds it), fast password hashing, and
rate-limit counts of each test's own. Parallel runs (pytest-xdist) keep browser and scale tests on one
worker each, and each worker's Redis keys apart."""

import functools
import os
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from mend.accounts import services as account_services
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.core import envelope
from tests.builders import FAST_HASHERS, Cast, build_cast, signed_in

# PBKDF2 with 600,000 iterations is the point in production and a cost in tests, where the same few
# people sign in again and again: each derivation is made once per run (the result is the same).
envelope.derive_sign_in = functools.lru_cache(maxsize=None)(envelope.derive_sign_in)

# Under pytest-xdist every worker has its own test database (pytest-django adds the worker's name), so two
# workers hand out the same ids: their cache keys and channel groups in a shared Redis must not meet.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER and django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
    django_settings.CACHES["default"]["KEY_PREFIX"] = f"test-{WORKER}"
if WORKER and django_settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"):
    django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-{WORKER}"
# SQLite tests run in memory, as Django makes them by default; said out loud because pytest-django only
# recognises Django's own engine name, and would give our engine (mend.core.sqlite) a file named after the
# worker, test_<path>_gw0, which cannot be opened.
for _alias in django_settings.DATABASES.values():
    if "sqlite" in _alias["ENGINE"] and not _alias.get("TEST", {}).get("NAME"):
        _alias.setdefault("TEST", {})["NAME"] = ":memory:"

# Tests that start servers of their own (a browser's, the scale-out's) run one after another on one worker:
# two Chromiums or two server fleets at once would only slow each other past their time limits.
SERIAL_GROUPS = {"e2e": "browser", "scale": "scale"}
TESTS = Path(__file__).parent


# Every xdist worker collects the suite itself and must find the same test ids: a random UUID given as a
# parameter (a value made afresh at each collection) is named by its form instead of its digits.
RANDOM_UUID_FORMS = {
    "upper-case-uuid": re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$"),
    "uuid-without-dashes": re.compile(r"^[0-9a-f]{32}$"),
    "uuid-version-1": re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$"),
}


def pytest_make_parametrize_id(config, val, argname):
    if isinstance(val, str):
        return next((form for form, pattern in RANDOM_UUID_FORMS.items() if pattern.match(val)), None)
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        parts = item.path.relative_to(TESTS).parts if item.path.is_relative_to(TESTS) else ()
        if parts and parts[0] in SERIAL_GROUPS:
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUPS[parts[0]]))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """A request activates its reader's language for its thread (Django's LocaleMiddleware and ours); in tests
    one thread serves them all, so each test starts, and ends, with Mend's default language."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _own_rate_limit_counts(settings):
    """Each test counts tries afresh (the cache may be a Redis shared by the run), at the real limits."""
    settings.RATELIMIT_CACHE_PREFIX = f"mend:rl:test-{uuid.uuid4().hex}:"


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


@pytest.fixture
def colleague(cast):
    """A co-facilitator of the case, signed in, with an API token."""
    user = cast.other_facilitator_same_program
    case_services.facilitator_assign(
        actor=cast.coordinator, case=cast.case, user=user, role=Role.CO_FACILITATOR
    )
    user.client = signed_in(user)
    _token, user.raw_token = account_services.api_token_create(actor=user, label="laptop")
    return user
