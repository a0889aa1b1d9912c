"""A party's own pages: consent, the person harmed's choices, taking a break, and stopping."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from mend.accounts.access import access_program_admin
from mend.consent import contexts, forms, services
from mend.consent.access import access_own_party_place, may_choose
from mend.consent.models import Scope
from mend.core import edges

USE_THE_BUTTONS = gettext_noop("Please use the buttons on this page to give or withdraw consent.")
STOPPED = gettext_noop(
    "You have stopped taking part. Nothing new will be scheduled or sent to you. "
    "If you ever want to come back, you can give your consent again."
)
SEEN_SAVED = gettext_noop("Your choice is saved. You can change it at any time.")
ON_BREAK = gettext_noop("You are taking a break. Nothing will be scheduled with you until you come back.")


def _consent_decide(request, place, data):
    """Gives or withdraws one consent, and flashes what was done (a refusal is raised, not flashed)."""
    if data["decision"] == "give":
        services.consent_give(
            actor=request.user, place=place, scope=data["scope"], text_sha256=data["text_sha256"]
        )
        messages.success(request, _("Thank you. You can change your mind at any time."))
    else:
        services.consent_withdraw(actor=request.user, place=place, scope=data["scope"])
        messages.success(request, _("Done. Your consent is withdrawn."))


@require_http_methods(["GET", "POST"])
def consent(request, reference):
    place = access_own_party_place(request.user, reference)
    error, status = "", 200
    if request.method == "POST" and "visibility" in request.POST:
        return _visibility(request, place)
    if request.method == "POST":
        form = forms.ConsentForm(request.POST)
        outcome = edges.submit(request, form, lambda data: _consent_decide(request, place, data))
        if outcome.ok:
            return redirect("consent:consent", reference=reference)
        if outcome.error is not None:
            error, status = outcome.error.message, outcome.error.status
        else:
            error, status = _(USE_THE_BUTTONS), 400
    return _consent_page(request, place, error=error, status=status)


def _consent_page(request, place, *, error="", status=200, visibility_form=None):
    context = {
        "case": place.case,
        "place": place,
        "rows": contexts.consent_rows(place),
        "error": error,
        "visibility_form": visibility_form or contexts.visibility_form(place),
    }
    return render(request, "consent/consent.html", context, status=status)


def _visibility(request, place):
    """A person responsible's choice whether the others responsible may see them."""
    form = contexts.visibility_form(place, request.POST)
    if form is None:
        return render(request, "404.html", status=404)
    seen = lambda data: services.same_side_visibility_set(  # noqa: E731
        actor=request.user, place=place, seen=data["seen_by_same_side"]
    )
    if edges.submit(request, form, seen).ok:
        messages.success(request, _(SEEN_SAVED))
        return redirect("consent:consent", reference=place.case.reference)
    return _consent_page(request, place, status=edges.form_status(request), visibility_form=form)


@require_POST
def stop(request, reference):
    """Stopping is one click and asks no reason."""
    place = access_own_party_place(request.user, reference)
    edges.flash(
        request,
        lambda: services.consent_withdraw(actor=request.user, place=place, scope=Scope.TAKE_PART),
        success=_(STOPPED),
        level=messages.INFO,
    )
    return redirect("cases:detail", reference=reference)


@require_POST
def take_break(request, reference):
    place = access_own_party_place(request.user, reference)
    if request.POST.get("resume") == "1":
        call, done = services.participant_resume, _("Welcome back. Your facilitator will be in touch.")
    else:
        call, done = services.participant_pause, _(ON_BREAK)
    edges.flash(request, lambda: call(actor=request.user, place=place), success=done, level=messages.INFO)
    return redirect("cases:detail", reference=reference)


@require_http_methods(["GET", "POST"])
def choices(request, reference):
    place = access_own_party_place(request.user, reference)
    if not may_choose(place):
        return render(request, "404.html", status=404)
    form = forms.ChoicesForm(
        request.POST or None,
        initial=contexts.choices_initial(place),
        role_word=place.case.program.word_for(place.role),
    )
    update = lambda data: services.choices_update(actor=request.user, place=place, **data)  # noqa: E731
    if edges.submit(request, form, update).ok:
        messages.success(request, _("Your choices are saved. You can change them at any time."))
        return redirect("cases:detail", reference=reference)
    context = {"case": place.case, "place": place, "form": form}
    return render(request, "consent/choices.html", context, status=edges.form_status(request))


@require_http_methods(["GET", "POST"])
def program_texts(request, program_id):
    """Each language's consent wording, chosen on the page; a change makes that language's next version."""
    program = access_program_admin(request.user, program_id)
    language = contexts.texts_language(program, request.POST.get("language") or request.GET.get("language"))
    form = forms.ConsentTextForm(request.POST or None, language=language)
    update = lambda data: services.consent_text_update(actor=request.user, program=program, **data)  # noqa: E731
    if edges.submit(request, form, update).ok:
        chosen = form.cleaned_data
        messages.success(request, contexts.saved_message(program, chosen["scope"], chosen["language"]))
        url = reverse("programs:consent_texts", kwargs={"program_id": program.pk})
        return redirect(f"{url}?language={form.cleaned_data['language']}")
    context = contexts.program_texts(program, language) | {"form": form}
    return render(request, "consent/program_texts.html", context, status=edges.form_status(request))
