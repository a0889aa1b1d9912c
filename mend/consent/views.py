"""A party's own pages: consent, the person harmed's choices, taking a break, and stopping."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mend.cases import access
from mend.cases.models import Role
from mend.consent import forms, selectors, services
from mend.consent.models import Scope
from mend.core.errors import DomainError


def _own_place(request, reference):
    case = access.access_case(request.user, reference)
    return access.access_own_taking_part(request.user, case)


def _consent_rows(place):
    texts = selectors.current_texts(place.case.program)
    current = selectors.current_scopes(place)
    return [
        {"scope": scope, "label": Scope(scope).label, "text": texts[scope], "given": scope in current}
        for scope in services.SCOPES_FOR_ROLE.get(place.role, [])
    ]


@require_http_methods(["GET", "POST"])
def consent(request, reference):
    place = _own_place(request, reference)
    error, status = "", 200
    if request.method == "POST":
        form = forms.ConsentForm(request.POST)
        if not form.is_valid():
            error, status = _("Please use the buttons on this page to give or withdraw consent."), 400
        else:
            data = form.cleaned_data
            try:
                if data["decision"] == "give":
                    services.consent_give(
                        actor=request.user, place=place, scope=data["scope"], text_sha256=data["text_sha256"]
                    )
                    messages.success(request, _("Thank you. You can change your mind at any time."))
                else:
                    services.consent_withdraw(actor=request.user, place=place, scope=data["scope"])
                    messages.success(request, _("Done. Your consent is withdrawn."))
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                return redirect("consent:consent", reference=reference)
        place._current_scopes = None
    return render(
        request,
        "consent/consent.html",
        {"case": place.case, "place": place, "rows": _consent_rows(place), "error": error},
        status=status,
    )


@require_POST
def stop(request, reference):
    """Stopping is one click and asks no reason."""
    place = _own_place(request, reference)
    try:
        services.consent_withdraw(actor=request.user, place=place, scope=Scope.TAKE_PART)
    except DomainError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "You have stopped taking part. The process is paused. "
                "If you ever want to come back, you can give your consent again."
            ),
        )
    return redirect("cases:detail", reference=reference)


@require_POST
def take_break(request, reference):
    place = _own_place(request, reference)
    resume = request.POST.get("resume") == "1"
    try:
        if resume:
            services.participant_resume(actor=request.user, place=place)
        else:
            services.participant_pause(actor=request.user, place=place)
    except DomainError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(
            request,
            _("Welcome back. Your facilitator will be in touch.")
            if resume
            else _("You are taking a break. Nothing will be scheduled with you until you come back."),
        )
    return redirect("cases:detail", reference=reference)


@require_http_methods(["GET", "POST"])
def choices(request, reference):
    place = _own_place(request, reference)
    if place.role != Role.HARMED_PARTY:
        return render(request, "404.html", status=404)
    current = selectors.choices_of(place)
    initial = {
        "mode": current.mode,
        "supporters_may_attend": current.supporters_may_attend,
        "community_may_attend": current.community_may_attend,
        "progress_updates": current.progress_updates,
        "progress_every_weeks": current.progress_every_weeks,
    }
    form = forms.ChoicesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.choices_update(actor=request.user, place=place, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Your choices are saved. You can change them at any time."))
            return redirect("cases:detail", reference=reference)
    return render(
        request,
        "consent/choices.html",
        {"case": place.case, "place": place, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def program_texts(request, program_id):
    from mend.accounts.access import access_program_admin

    program = access_program_admin(request.user, program_id)
    form = forms.ConsentTextForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_text_update(actor=request.user, program=program, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("The new wording is saved. People will be asked to agree to it from now on.")
            )
            return redirect("programs:consent_texts", program_id=program.pk)
    texts = sorted(selectors.current_texts(program).values(), key=lambda t: Scope.values.index(t.scope))
    return render(
        request,
        "consent/program_texts.html",
        {"program": program, "form": form, "texts": texts},
        status=400 if request.method == "POST" else 200,
    )
