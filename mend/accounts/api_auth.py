"""How the API knows who is calling: a staff member's personal token, or their verified web session."""

from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from mend.accounts.middleware import second_factor_exempt
from mend.accounts.models import ApiToken
from mend.core.ids import token_digest

SIGN_IN = "Sign in, or send a personal API token as a Bearer token."
TOKEN_REVOKED = "This API token was revoked. Make a new one on your account's API tokens page."
TOKEN_UNKNOWN = (
    "This API token is not valid. Check that you sent all of it after 'Bearer ', "
    "or make a new one on your account's API tokens page."
)
CSRF_MISSING = (
    "This call came from a signed-in browser session without a valid CSRF token. Send the page's CSRF "
    "token in an X-CSRFToken header, or call with a personal API token instead."
)


class TokenRefused(AuthenticationError):
    """A Bearer token was sent and cannot be used; the message says why, since the caller holds it."""

    def __init__(self, message: str):
        super().__init__(401, message)


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = ApiToken.objects.select_related("user").filter(digest=token_digest(token)).first()
        if found is not None and found.revoked_at is not None:
            raise TokenRefused(TOKEN_REVOKED)
        # An explicit token that fails is refused outright, rather than falling back to a session.
        if found is None or not found.user.is_active or not found.user.is_staff_member:
            raise TokenRefused(TOKEN_UNKNOWN)
        # Recorded at most once a minute, so busy clients do not write on every call.
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class VerifiedStaffSession(SessionAuth):
    """A staff member's web session, once the second factor is checked; writes need the CSRF token.

    Who the caller is comes first: a request without such a session is a 401 (never a CSRF 403), and
    the CSRF check only protects sessions that could act.
    """

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or not user.is_staff_member:
            return None
        if not (user.is_verified() or second_factor_exempt(user)):
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, CSRF_MISSING)
        return user

    def authenticate(self, request, key):  # pragma: no cover - __call__ above does the work
        return None
