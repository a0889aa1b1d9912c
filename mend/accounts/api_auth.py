"""How the API knows who is calling: a staff member's personal token, or their verified web session."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from mend.accounts.middleware import second_factor_exempt
from mend.accounts.models import ApiToken
from mend.core.ids import token_digest


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None or not found.user.is_staff_member:
            return None
        # Recorded at most once a minute, so busy clients do not write on every call.
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class VerifiedStaffSession(SessionAuth):
    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or not user.is_staff_member:
            return None
        if not (user.is_verified() or second_factor_exempt(user)):
            return None
        return user
