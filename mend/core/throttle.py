"""Rate limits and lock-out for the doors a guesser knocks on (sign-in, recovery, invitation links and
fetching one's wrapped keys) and per-person limits on what one person can send (messages and files).
Counted with django-ratelimit in the default cache (Redis when scaled, so that every server process shares
the counts). See docs/hardening.md."""

import hashlib
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.dispatch import Signal
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django_ratelimit.core import _split_rate, get_usage

# Calm, and never a word on whether an account exists: an unknown name is paused just the same.
TOO_MANY_TRIES = gettext_noop(
    "There have been a lot of tries from this connection. Please wait a few minutes, then try again."
)
PAUSED = gettext_noop(
    "After several tries that did not match, this name is paused for a few minutes. "
    "Please wait a little, then try again."
)

# Sent with `user` and `scope` when a name is paused for one address; accounts writes the audit event
# (its AppConfig.ready() connects the receiver), so that core imports no app.
name_paused = Signal()

# django-ratelimit's key for the client's address: client_address() below (RATELIMIT_IP_META_KEY), an IPv6
# address counted by its /64.
ADDRESS = "ip"


def _ip(text: str):
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # 203.0.113.7:443
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address) -> bool:
    return address is not None and any(address in network for network in settings.MEND_TRUSTED_PROXIES)


def client_address(request) -> str:
    """The address a request came from: the connecting address, unless that is one of
    MEND_TRUSTED_PROXIES; then the last address in X-Forwarded-For that is not itself a trusted proxy
    (what the proxy nearest to Mend saw). Nobody else's X-Forwarded-For is believed: a client that sent its
    own could otherwise count its tries under any address it likes."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not settings.MEND_TRUSTED_PROXIES or not _trusted(_ip(peer)):
        return peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            return peer  # a hop the proxy could not have written: count it as the proxy's own
        if not _trusted(address):
            return str(address)
    return peer


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


# --- what one person sends -------------------------------------------------------------------------------

# Says what the limit is and when sending works again: a limit, not a reproach.
SENDING_LIMIT = {
    "message.person": gettext_noop(
        "This was not sent: each person can send up to %(count)d messages in %(period)s. "
        "You can send it again in %(when)s."
    ),
    "upload.person": gettext_noop(
        "This was not sent: each person can send up to %(count)d files in %(period)s. "
        "You can send it again in %(when)s."
    ),
}


def take_for_person(limit: str, person_id: int) -> int | None:
    """Counts one thing sent by a person (a file) against `limit`, whatever door it came through; seconds
    to wait when it is one more than the limit allows, else None. No request is needed: the websocket has
    none."""
    usage = _usage(None, limit, f"person:{person_id}", increment=True)
    return _seconds_left(usage) if _used_up(usage, counted_this_one=True) else None


def wait_for_person(limit: str, person_id: int) -> int | None:
    """Seconds a person waits before sending one more under `limit`, else None; counts nothing."""
    usage = _usage(None, limit, f"person:{person_id}", increment=False)
    return _seconds_left(usage) if _used_up(usage, counted_this_one=False) else None


def count_for_person(limit: str, person_id: int) -> None:
    """Counts one thing a person has sent, once it is accepted (see wait_for_person)."""
    _usage(None, limit, f"person:{person_id}", increment=True)


def when(seconds: int) -> str:
    """A wait in words: "30 seconds", "2 minutes"."""
    if seconds < 90:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = (seconds + 59) // 60
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _period(seconds: int) -> str:
    """A limit's window in words: "1 minute", "10 minutes", "1 hour"."""
    if seconds % 3600 == 0:
        return ngettext("%(n)d hour", "%(n)d hours", seconds // 3600) % {"n": seconds // 3600}
    if seconds % 60 == 0:
        return ngettext("%(n)d minute", "%(n)d minutes", seconds // 60) % {"n": seconds // 60}
    return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}


def sending_too_fast(seconds: int, limit: str = "message.person") -> str:
    """What the person's sending limit is and when they can send again."""
    count, period = _split_rate(settings.MEND_RATE_LIMITS[limit])
    return _(SENDING_LIMIT[limit]) % {"count": count, "period": _period(period), "when": when(seconds)}


# --- lock-out of one name from one address ------------------------------------------------------------
#
# Failures are counted per (name, address) as well as per address, and a name is paused only for the
# address that used up its tries: someone who knows a name cannot lock its owner out from elsewhere, and
# correct credentials from another address still sign in.


def _cache():
    return caches[settings.RATELIMIT_USE_CACHE]


def _pair(request, account: str) -> str:
    from django_ratelimit.core import _get_ip  # the address as the per-address counts see it (IPv6 /64)

    return f"{account}\0{_get_ip(request)}"


def _lock_key(scope: str, pair: str) -> str:
    # Hashed, so that no sign-in name, email or address sits in the cache in the clear.
    digest = hashlib.sha256(f"{scope}\0{pair}".encode()).hexdigest()
    return f"{settings.RATELIMIT_CACHE_PREFIX}lock:{digest}"


def locked(request, scope: str, account: str) -> bool:
    """Whether tries for this account from this address are paused; checked before any credential is."""
    return _cache().get(_lock_key(scope, _pair(request, account))) is not None


def fail_account(request, scope: str, account: str, *, owner: Callable[[], object | None]) -> bool:
    """Counts a failed try for `account` (a normalised name, known or not) from this address. When that
    uses up `<scope>.account`, pauses the name for this address for MEND_LOCKOUT_MINUTES and returns
    True. `owner` finds the account's user, if there is one, so that the pause is audited."""
    pair = _pair(request, account)
    if not fail(request, f"{scope}.account", pair):
        return False
    if _cache().add(_lock_key(scope, pair), 1, timeout=settings.MEND_LOCKOUT_MINUTES * 60):
        user = owner()
        if user is not None:
            name_paused.send(sender=fail_account, user=user, scope=scope)
    return True


# --- answers -----------------------------------------------------------------------------------------


def too_many(seconds: int, response: HttpResponse | None = None) -> HttpResponse:
    """A 429 with Retry-After; `response` is the page to show, else a JSON error with a plain message."""
    if response is None:
        response = JsonResponse({"error": _(TOO_MANY_TRIES)})
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response
