"""Staff see nothing past sign-in until their second factor is checked in this session."""

from django.conf import settings
from django.shortcuts import redirect

# Pages a signed-in staff member may reach before the second step: the step itself and signing out. Not
# their keys: those are served, made and opened only after it (the unlock page, docs/crypto.md).
_OPEN_PATHS = (
    "/account/two-factor/",
    "/account/sign-out/",
    "/static/",
    "/healthz",
    "/api/",
)


def second_factor_exempt(user) -> bool:
    return settings.MEND_DEMO and user.is_demo


def second_factor_missing(user, session) -> bool:
    """For websockets, where OTPMiddleware does not run: does this staff session lack its second step?"""
    from django_otp import DEVICE_ID_SESSION_KEY

    return user.is_staff_member and not second_factor_exempt(user) and not session.get(DEVICE_ID_SESSION_KEY)


class StaffSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff_member
            and not user.is_verified()
            and not second_factor_exempt(user)
            and not request.path.startswith(_OPEN_PATHS)
        ):
            return redirect("accounts:two_factor")
        return self.get_response(request)
