"""Reads of accounts for the pages: who a sign-in name belongs to, a person's second factor and tokens."""

from django.db.models import Count, Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from mend.accounts.models import ApiToken, Membership, Program, User


def active_user(identifier: str) -> User | None:
    return User.objects.filter(username=identifier, is_active=True).first()


def account_of_old_scheme(identifier: str) -> User | None:
    """An active account still signing in with the old password or the salt every install shared."""
    return User.objects.filter(
        username=identifier, auth_scheme__in=("legacy", "derived"), is_active=True
    ).first()


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def live_api_tokens(user: User):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def program_members(program: Program, *, facilitating_roles):
    """The people of a program, each with the number of its cases they facilitate now (the roles are the
    case's to say: accounts sit below cases)."""
    places = Q(
        user__participations__case__program=program,
        user__participations__role__in=facilitating_roles,
        user__participations__removed_at__isnull=True,
    )
    return (
        Membership.objects.filter(program=program)
        .select_related("user")
        .annotate(cases=Count("user__participations", filter=places))
        .order_by("user__display_name", "pk")
    )


def programs_of_member(user: User):
    return Program.objects.filter(memberships__user=user).order_by("name", "pk")
