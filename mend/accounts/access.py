"""Access to programs: settings pages are for that program's admins only; everyone else gets 404."""

from django.http import Http404

from mend.accounts.models import ApiToken, Membership, Program, User


def access_program_admin(user: User, program_id: int) -> Program:
    program = Program.objects.filter(
        pk=program_id, memberships__user=user, memberships__role=Membership.Role.ADMIN
    ).first()
    if program is None or not user.is_staff_member:
        raise Http404
    return program


def access_program_membership(user: User, program_id: int, membership_id: int) -> Membership:
    """A membership of a program the user is admin of: the people page's rows. Anything else is a 404."""
    program = access_program_admin(user, program_id)
    membership = Membership.objects.select_related("user").filter(pk=membership_id, program=program).first()
    if membership is None:
        raise Http404
    return membership


def access_own_api_token(user: User, token_id: int) -> ApiToken:
    """One of the person's own tokens that still works; anyone else's is a 404."""
    api_token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).first()
    if api_token is None:
        raise Http404
    return api_token
