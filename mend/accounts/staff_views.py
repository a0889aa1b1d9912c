"""Program admins' page of the people in their program: remove someone from it, or close their account.
Each action has a confirmation page and works without JavaScript (mend.accounts.offboarding does the work)."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mend.accounts import offboarding
from mend.accounts.access import access_program_admin, access_program_membership
from mend.accounts.models import Membership
from mend.cases.models import FACILITATING_ROLES
from mend.core.errors import DomainError


@require_GET
def people(request, program_id):
    program = access_program_admin(request.user, program_id)
    places = Q(
        user__participations__case__program=program,
        user__participations__role__in=FACILITATING_ROLES,
        user__participations__removed_at__isnull=True,
    )
    members = (
        Membership.objects.filter(program=program)
        .select_related("user")
        .annotate(cases=Count("user__participations", filter=places))
        .order_by("user__display_name", "pk")
    )
    return render(request, "accounts/people.html", {"program": program, "members": members})


def _confirm(request, program_id, membership_id, *, action: str):
    membership = access_program_membership(request.user, program_id, membership_id)
    refused = ""
    if membership.user_id == request.user.pk:
        refused = _("You cannot do this to your own account. Ask another admin of this program.")
    elif action == "deactivate":
        refused = offboarding.deactivation_refused(request.user, membership.user)
    if request.method == "POST" and not refused:
        try:
            if action == "remove":
                offboarding.membership_end(actor=request.user, membership=membership)
                done = _("%(name)s is no longer in this program. Their places in its cases have ended.")
            else:
                offboarding.user_deactivate(actor=request.user, user=membership.user)
                done = _("%(name)s's account is closed. They have been signed out everywhere.")
        except DomainError as error:
            refused = error.message
        else:
            messages.success(request, done % {"name": membership.user.display_name})
            return redirect("programs:people", program_id=program_id)
    status = 200 if request.method == "GET" else 409
    context = {"program": membership.program, "membership": membership, "action": action, "refused": refused}
    return render(request, "accounts/person_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
def person_remove(request, program_id, membership_id):
    return _confirm(request, program_id, membership_id, action="remove")


@require_http_methods(["GET", "POST"])
def person_deactivate(request, program_id, membership_id):
    return _confirm(request, program_id, membership_id, action="deactivate")
