"""Rate limits and lock-out for the doors a guesser knocks on: sign-in, recovery, invitation links and
fetching one's wrapped keys. Counted per address and per account with django-ratelimit, in the default
cache (Redis when scaled, so that every server process shares the counts). See docs/hardening.md."""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_ratelimit.core import get_usage

from mend import audit

# Calm, and never a word on whether an account exists: an unknown name is paused just the same.
TOO_MANY_TRIES = gettext_noop(
    "There have been a lot of tries from this connection. Please wait a few minutes, then try again."
)
PAUSED = gettext_noop(
    "After several tries that did not match, this name is paused for a few minutes. "
    "Please wait a little, then try again."
)

# django-ratelimit's key for the client's address: REMOTE_ADDR, an IPv6 address counted by its /64.
# Behind a proxy, uvicorn puts the client's address there (FORWARDED_ALLOW_IPS, docs/hardening.md).
ADDRESS = "ip"


def _usage(request, limit: str, key: str, *, increment: bool) -> dict | None:
    return get_usage(
        request,
        group=f"mend.{limit}",
        key=ADDRESS if key == ADDRESS else (lambda _group, _request: key),
        rate=settings.MEND_RATE_LIMITS[limit],
        increment=increment,
    )


def _used_up(usage: dict | None, *, counted_this_one: bool) -> bool:
    if usage is None:  # RATELIMIT_ENABLE is off
        return False
    # should_limit alone also covers a cache that could not count (django-ratelimit then fails closed).
    return usage["should_limit"] or (not counted_this_one and usage["count"] >= usage["limit"])


def _seconds_left(usage: dict) -> int:
    return max(int(usage["time_left"]), 1)


def wait(request, limit: str, key: str = ADDRESS) -> int | None:
    """Seconds to wait when `key` has used up the tries `limit` allows in this window, else None.
    Only what `fail` counted is used up: checking counts nothing."""
    usage = _usage(request, limit, key, increment=False)
    return _seconds_left(usage) if _used_up(usage, counted_this_one=False) else None


def fail(request, limit: str, key: str = ADDRESS) -> bool:
    """Counts one failed try; True when that uses up what `limit` allows."""
    usage = _usage(request, limit, key, increment=True)
    return usage is not None and (usage["should_limit"] or usage["count"] >= usage["limit"])


def take(request, limit: str, key: str = ADDRESS) -> int | None:
    """Counts one use, failed or not; seconds to wait when it is one more than `limit` allows, else None."""
    usage = _usage(request, limit, key, increment=True)
    return _seconds_left(usage) if _used_up(usage, counted_this_one=True) else None


# --- lock-out of one account (or one name that may not be an account) ---------------------------------


def _cache():
    return caches[settings.RATELIMIT_USE_CACHE]


def _lock_key(scope: str, account: str) -> str:
    # Hashed, so that no sign-in name or email sits in the cache in the clear.
    digest = hashlib.sha256(f"{scope}\0{account}".encode()).hexdigest()
    return f"{settings.RATELIMIT_CACHE_PREFIX}lock:{digest}"


def locked(scope: str, account: str) -> bool:
    """Whether tries for this account are paused; checked before any credential is."""
    return _cache().get(_lock_key(scope, account)) is not None


def fail_account(request, scope: str, account: str, *, owner: Callable[[], object | None]) -> bool:
    """Counts a failed try for `account` (a normalised name, known or not). When that uses up
    `<scope>.account`, pauses the account for MEND_LOCKOUT_MINUTES and returns True. `owner` finds the
    account's user, if there is one, so that the lock-out is audited."""
    if not fail(request, f"{scope}.account", account):
        return False
    if _cache().add(_lock_key(scope, account), 1, timeout=settings.MEND_LOCKOUT_MINUTES * 60):
        user = owner()
        if user is not None:
            account_lock_record(user=user, scope=scope)
    return True


@transaction.atomic
def account_lock_record(*, user, scope: str) -> None:
    """The audit event for a paused account: who was targeted and at which door, nothing they typed."""
    audit.record(actor=None, code="account.locked", target=user, data={"scope": scope})


# --- answers -----------------------------------------------------------------------------------------


def too_many(seconds: int, response: HttpResponse | None = None) -> HttpResponse:
    """A 429 with Retry-After; `response` is the page to show, else a JSON error with a plain message."""
    if response is None:
        response = JsonResponse({"error": _(TOO_MANY_TRIES)})
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response
