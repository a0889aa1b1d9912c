"""Program admins' page of the people in their program: remove someone from it, or close their account.
Each action has a confirmation page and works without JavaScript (mend.accounts.offboarding does the work)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from mend.accounts import offboarding, selectors
from mend.accounts.access import access_program_admin, access_program_membership
from mend.cases.models import FACILITATING_ROLES
from mend.core import edges

OWN_ACCOUNT = gettext_noop("You cannot do this to your own account. Ask another admin of this program.")
DONE = {
    "remove": gettext_noop("%(name)s is no longer in this program. Their places in its cases have ended."),
    "deactivate": gettext_noop("%(name)s's account is closed. They have been signed out everywhere."),
}


@require_GET
def people(request, program_id):
    program = access_program_admin(request.user, program_id)
    members = selectors.program_members(program, facilitating_roles=FACILITATING_ROLES)
    return render(request, "accounts/people.html", {"program": program, "members": members})


def _refused_before(request, membership, action: str) -> str:
    if membership.user_id == request.user.pk:
        return _(OWN_ACCOUNT)
    if action == "deactivate":
        return offboarding.deactivation_refused(request.user, membership.user)
    return ""


def _carry_out(request, membership, action: str):
    if action == "remove":
        return offboarding.membership_end(actor=request.user, membership=membership)
    return offboarding.user_deactivate(actor=request.user, user=membership.user)


def _confirm(request, program_id, membership_id, *, action: str):
    membership = access_program_membership(request.user, program_id, membership_id)
    refused = _refused_before(request, membership, action)
    if request.method == "POST" and not refused:
        outcome = edges.attempt(lambda: _carry_out(request, membership, action))
        if outcome.ok:
            messages.success(request, _(DONE[action]) % {"name": membership.user.display_name})
            return redirect("programs:people", program_id=program_id)
        refused = outcome.error.message
    status = 200 if request.method == "GET" else 409
    context = {"program": membership.program, "membership": membership, "action": action, "refused": refused}
    return render(request, "accounts/person_confirm.html", context, status=status)


@require_http_methods(["GET", "POST"])
def person_remove(request, program_id, membership_id):
    return _confirm(request, program_id, membership_id, action="remove")


@require_http_methods(["GET", "POST"])
def person_deactivate(request, program_id, membership_id):
    return _confirm(request, program_id, membership_id, action="deactivate")
