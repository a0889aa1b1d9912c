"""Values every template may use."""

from django.conf import settings


def mend(request):
    user = getattr(request, "user", None)
    is_staff = bool(user and user.is_authenticated and user.is_staff_member)
    return {
        "demo_mode": settings.MEND_DEMO,
        "quick_exit_url": settings.MEND_QUICK_EXIT_URL,
        # Anyone who is not signed in as staff might be a party, so they always get the quick exit.
        "show_quick_exit": not is_staff,
        "is_staff_member": is_staff,
    }
