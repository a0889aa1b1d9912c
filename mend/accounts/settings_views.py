"""A person's own settings page: time zone and language for everyone; for someone taking part in a case, also
how they hear of new messages and whether others see that they have read them.

Someone in several cases sees the settings of their first case, and a change applies to every case they
take part in (one field per case would open each case's sealed contact method: the page would cost a key
read per case)."""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mend.accounts import forms, selectors
from mend.accounts import services as account_services
from mend.cases import services as case_services
from mend.cases.access import access_own_taking_part, cases_taken_part_in
from mend.core import edges
from mend.core.i18n import language_of
from mend.core.time_zones import likely_zones
from mend.dialogue import services as dialogue_services


@require_http_methods(["GET", "POST"])
def settings_page(request):
    user = request.user
    first = cases_taken_part_in(user).select_related("program").order_by("pk").first()
    place = access_own_taking_part(user, first) if first is not None else None
    form = forms.SettingsForm(
        request.POST if request.method == "POST" else None,
        initial=_initial(user, place),
        likely=_likely(user, first),
        taking_part=place is not None,
    )
    outcome = edges.submit(request, form, lambda data: _save(user, form))
    if outcome.ok:
        messages.success(request, _("Your settings are saved."))
        return _remembering_language(redirect("accounts:settings"), user.language)
    context = {"form": form, "place": place, "case": first}
    return render(request, "accounts/settings.html", context, status=edges.form_status(request, outcome))


def _remembering_language(response, code: str):
    # As the switcher at the foot of every page does, so that the sign-in page keeps it after signing out.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def _initial(user, place) -> dict:
    initial = {"time_zone": user.time_zone, "language": language_of(user)}
    if place is not None:
        initial |= {"contact_method": str(place.contact_method or ""), "read_receipts": place.read_receipts}
    return initial


def _likely(user, case) -> list[str]:
    programs = [case.program] if case is not None else list(selectors.programs_of_member(user))
    likely = [user.time_zone]
    for program in programs:
        likely += likely_zones(time_zone=program.time_zone, jurisdictions=program.jurisdictions)
    return likely


@transaction.atomic
def _save(user, form) -> None:
    """Each change through its own service; the places' fields for every case the person takes part in."""
    data, changed = form.cleaned_data, set(form.changed_data)
    case_services.person_time_zone_set(actor=user, time_zone=data["time_zone"])
    account_services.user_language_set(user=user, language=data["language"])
    if not changed & {"contact_method", "read_receipts"}:
        return
    for case in cases_taken_part_in(user).order_by("pk"):
        place = access_own_taking_part(user, case)
        if "contact_method" in changed:
            case_services.participant_contact_method_set(
                actor=user, place=place, contact_method=data["contact_method"]
            )
        if "read_receipts" in changed:
            dialogue_services.read_receipts_set(actor=user, place=place, shown=data["read_receipts"])
