"""Headers every response carries, session time-outs, and the viewer's time zone and language."""

import time
import zoneinfo

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.core.handlers.asgi import ASGIRequest
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from whitenoise.middleware import WhiteNoiseMiddleware

from mend.core import i18n

PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), geolocation=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if not request.path.startswith("/static/"):
            # Nothing private may stay in a shared computer's cache or come back through Back.
            response.headers["Cache-Control"] = "no-store"
        return response


# Unix seconds, in the session: when this sign-in began, and when its last request came.
SIGNED_IN_AT = "mend_signed_in_at"
SEEN_AT = "mend_seen_at"
# Writing the time of every request would save the session on every request: once a minute is enough.
SEEN_RESOLUTION = 60

IDLE_MESSAGE = gettext_noop(
    "You were signed out because Mend was not used for a while. This keeps your account safe on a shared "
    "device. Sign in again to carry on."
)
MAX_AGE_MESSAGE = gettext_noop(
    "You were signed out because you had been signed in for a long time. This keeps your account safe on "
    "a shared device. Sign in again to carry on."
)


def session_timed_out(session, now: float) -> str | None:
    """Why this signed-in session is over (IDLE_MESSAGE or MAX_AGE_MESSAGE), or None while it may go on."""
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if signed_in_at is not None and now - signed_in_at > settings.MEND_SESSION_MAX_HOURS * 3600:
        return MAX_AGE_MESSAGE
    if seen_at is not None and now - seen_at > settings.MEND_SESSION_IDLE_MINUTES * 60:
        return IDLE_MESSAGE
    return None


class SessionTimeoutMiddleware:
    """Signs a person out after MEND_SESSION_IDLE_MINUTES without a request, and MEND_SESSION_MAX_HOURS
    after signing in, then LoginRequiredMiddleware sends them to the sign-in page, which says why.

    Signing out deletes the stored session and tells the person's open sockets (mend.dialogue.signals),
    and the conversation socket checks each frame that its session still exists."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = time.time()
        session = request.session
        if SESSION_KEY in session:
            reason = session_timed_out(session, now)
            if reason is not None:
                logout(request)
                messages.info(request, _(reason))
        response = self.get_response(request)
        if SESSION_KEY in session:
            if SIGNED_IN_AT not in session:  # a session from before these clocks, or from a test
                session[SIGNED_IN_AT] = session[SEEN_AT] = int(now)
            elif now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
                session[SEEN_AT] = int(now)
        return response


@receiver(user_logged_in, dispatch_uid="mend.core.session_clocks")
def _start_session_clocks(sender, request, user, **kwargs):
    # Every sign-in starts both clocks, a second sign-in of the same person too (login() then keeps the
    # session as it is).
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = request.session[SEEN_AT] = int(time.time())


class ViewerTimezoneMiddleware:
    """A signed-in person's pages are in their own time zone and language (mend.core.i18n); before sign-in,
    Django's LocaleMiddleware has chosen the language from the switcher's cookie or Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = request.user.is_authenticated
        tz_name = getattr(request.user, "time_zone", "") if signed_in else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name) if tz_name else timezone.get_default_timezone())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        if signed_in:
            translation.activate(i18n.language_of(request.user, fallback=request.LANGUAGE_CODE))
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, with its files handed to an ASGI server as an asynchronous iterator: Django would otherwise
    warn, on every file, that it must consume a synchronous iterator. The file is read in a worker thread, as
    Django itself would; over WSGI (and in the test client) nothing changes."""

    def __call__(self, request):
        response = super().__call__(request)
        if (
            isinstance(request, ASGIRequest)
            and getattr(response, "streaming", False)
            and not response.is_async
        ):
            response.streaming_content = _read_in_a_thread(response.streaming_content)
        return response


async def _read_in_a_thread(chunks):
    for chunk in await sync_to_async(list, thread_sensitive=False)(chunks):
        yield chunk
