"""Preparation pages: a facilitator's assessments, confirmations, safety plans and declarations,
and the person responsible's acknowledgment in their own words."""

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mend.accounts.access import access_program_admin
from mend.assessments import forms, selectors, services
from mend.assessments.access import access_acknowledging_place, access_assessed_place, access_safety_plan
from mend.cases import access
from mend.core import edges
from mend.core.errors import DomainError


@require_http_methods(["GET", "POST"])
def assessment(request, reference, participant_id):
    case = access.access_managed_case(request.user, reference)
    place = access_assessed_place(request.user, case, participant_id)
    _set, questions = selectors.current_questions(case.program, cybercrime=case.is_cybercrime)
    form = forms.AssessmentForm(request.POST or None, questions=questions)

    def sign_off(data):
        fields = {name: data[name] for name in ("outcome", "reassess_on")}
        return services.assessment_sign_off(actor=request.user, place=place, answers=form.answers(), **fields)

    if edges.submit(request, form, sign_off).ok:
        messages.success(request, _("The assessment is signed off."))
        return redirect("cases:detail", reference=reference)
    context = {
        "case": case,
        "place": place,
        "form": form,
        "latest": selectors.latest_assessment(place),
        "role_word": case.program.word_for(place.role),
        # Their own words, for those who confirm them (the facilitators): read here, then confirmed here.
        "acknowledgment": selectors.latest_acknowledgment(place)
        if access.facilitates_case(request.user, case.pk)
        else None,
    }
    return render(request, "assessments/assessment.html", context, status=edges.form_status(request))


@require_POST
def confirm_acknowledgment(request, reference, participant_id):
    case = access.access_managed_case(request.user, reference)
    place = access.access_facilitated_place(request.user, case, participant_id)
    outcome = edges.flash(request, lambda: services.acknowledgment_confirm(actor=request.user, place=place))
    if not outcome.ok:
        context = {"case": case, "message": outcome.error.message}
        return render(request, "assessments/refused.html", context, status=outcome.status)
    messages.success(request, _("The acknowledgment is confirmed."))
    return redirect("cases:detail", reference=reference)


@require_http_methods(["GET", "POST"])
def safety_plan(request, reference, participant_id):
    """Only the person the plan protects and the case's own facilitators ever see it."""
    case = access.access_case(request.user, reference)
    place, may_write = access_safety_plan(request.user, case, participant_id)
    plan = selectors.safety_plan_of(place)
    if not may_write:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])  # the person reads their plan; facilitators write it
        return render(request, "assessments/safety_plan_own.html", {"case": case, "plan": plan})
    form = forms.SafetyPlanForm(request.POST or None, initial=selectors.safety_plan_initial(plan))
    save = lambda data: services.safety_plan_save(actor=request.user, place=place, **data)  # noqa: E731
    if edges.submit(request, form, save).ok:
        messages.success(request, _("The safety plan is saved."))
        return redirect("cases:detail", reference=reference)
    context = {"case": case, "place": place, "form": form, "role_word": case.program.word_for(place.role)}
    return render(request, "assessments/safety_plan.html", context, status=edges.form_status(request))


@require_http_methods(["GET", "POST"])
def declare_conflict(request, reference):
    case = access.access_managed_case(request.user, reference)
    form = forms.ConflictForm(request.POST or None)
    declare = lambda data: services.conflict_declare(actor=request.user, case=case, **data)  # noqa: E731
    if edges.submit(request, form, declare).ok:
        messages.success(request, _("Thank you. Your declaration is recorded."))
        if form.cleaned_data["has_conflict"]:
            return redirect("home")
        return redirect("cases:detail", reference=reference)
    context = {"case": case, "form": form, "latest": selectors.latest_declaration(case, request.user)}
    return render(request, "assessments/conflict.html", context, status=edges.form_status(request))


@require_http_methods(["GET", "POST"])
def acknowledgment(request, reference):
    case = access.access_case(request.user, reference)
    place = access_acknowledging_place(request.user, case)
    form = forms.AcknowledgmentForm(request.POST or None)
    submit = lambda data: services.acknowledgment_submit(actor=request.user, place=place, text=data["text"])  # noqa: E731
    if edges.submit(request, form, submit, field="text").ok:
        messages.success(request, _("Thank you. Your facilitator will read it and talk it through with you."))
        return redirect("cases:detail", reference=reference)
    context = {"case": case, "form": form, "state": selectors.acknowledgment_state(place)}
    return render(request, "assessments/acknowledgment.html", context, status=edges.form_status(request))


def _questions_save(request, program, form):
    """The service call; a line the form cannot read is refused on the questions field like the service's
    own refusals."""

    def save(_data):
        try:
            questions = form.parsed()
        except django_forms.ValidationError as exc:
            raise DomainError(exc.messages[0], field="questions") from None
        return services.question_set_update(actor=request.user, program=program, questions=questions)

    return save


@require_http_methods(["GET", "POST"])
def program_questions(request, program_id):
    program = access_program_admin(request.user, program_id)
    _set, questions = selectors.current_questions(program, cybercrime=True)
    initial = "\n".join(f"{q['id']} | {q['section']} | {q['text']}" for q in questions)
    form = forms.QuestionsForm(request.POST or None, initial={"questions": initial})
    if edges.submit(request, form, _questions_save(request, program, form), field="questions").ok:
        messages.success(request, _("The questions are saved. New assessments will use them."))
        return redirect("programs:questions", program_id=program.pk)
    context = {"program": program, "form": form}
    return render(request, "assessments/program_questions.html", context, status=edges.form_status(request))
