"""Preparation pages: a facilitator's assessments, confirmations, safety plans and declarations,
and the person responsible's acknowledgment in their own words."""

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mend.assessments import forms, selectors, services
from mend.assessments.access import access_safety_plan
from mend.assessments.models import SafetyPlan
from mend.cases import access
from mend.cases.models import PARTY_ROLES, Role
from mend.core.errors import DomainError


def _error_into(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_http_methods(["GET", "POST"])
def assessment(request, reference, participant_id):
    case = access.access_managed_case(request.user, reference)
    place = access.access_facilitated_place(request.user, case, participant_id)
    if place.role not in PARTY_ROLES:
        raise Http404
    _set, questions = selectors.current_questions(case.program, cybercrime=case.is_cybercrime)
    form = forms.AssessmentForm(request.POST or None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_sign_off(
                actor=request.user,
                place=place,
                answers=form.answers(),
                outcome=form.cleaned_data["outcome"],
                reassess_on=form.cleaned_data["reassess_on"],
            )
        except DomainError as exc:
            _error_into(form, exc)
        else:
            messages.success(request, _("The assessment is signed off."))
            return redirect("cases:detail", reference=reference)
    context = {
        "case": case,
        "place": place,
        "form": form,
        "latest": selectors.latest_assessment(place),
        "role_word": case.program.word_for(place.role),
    }
    return render(
        request, "assessments/assessment.html", context, status=400 if request.method == "POST" else 200
    )


@require_POST
def confirm_acknowledgment(request, reference, participant_id):
    case = access.access_managed_case(request.user, reference)
    place = access.access_facilitated_place(request.user, case, participant_id)
    try:
        services.acknowledgment_confirm(actor=request.user, place=place)
    except DomainError as exc:
        messages.error(request, exc.message)
        return render(
            request, "assessments/refused.html", {"case": case, "message": exc.message}, status=exc.status
        )
    messages.success(request, _("The acknowledgment is confirmed."))
    return redirect("cases:detail", reference=reference)


@require_http_methods(["GET", "POST"])
def safety_plan(request, reference, participant_id):
    """Only the person the plan protects and the case's own facilitators ever see it."""
    case = access.access_case(request.user, reference)
    place, may_write = access_safety_plan(request.user, case, participant_id)
    if not may_write:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])  # the person reads their plan; facilitators write it
        plan = SafetyPlan.objects.filter(participant=place).first()
        return render(request, "assessments/safety_plan_own.html", {"case": case, "plan": plan})
    plan = SafetyPlan.objects.filter(participant=place).first()
    initial = (
        {"risks": plan.risks, "measures": plan.measures, "emergency_contacts": plan.emergency_contacts}
        if plan
        else None
    )
    form = forms.SafetyPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.safety_plan_save(actor=request.user, place=place, **form.cleaned_data)
        except DomainError as exc:
            _error_into(form, exc)
        else:
            messages.success(request, _("The safety plan is saved."))
            return redirect("cases:detail", reference=reference)
    context = {"case": case, "place": place, "form": form, "role_word": case.program.word_for(place.role)}
    return render(
        request, "assessments/safety_plan.html", context, status=400 if request.method == "POST" else 200
    )


@require_http_methods(["GET", "POST"])
def declare_conflict(request, reference):
    case = access.access_managed_case(request.user, reference)
    form = forms.ConflictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.conflict_declare(actor=request.user, case=case, **form.cleaned_data)
        except DomainError as exc:
            _error_into(form, exc)
        else:
            messages.success(request, _("Thank you. Your declaration is recorded."))
            if form.cleaned_data["has_conflict"]:
                return redirect("home")
            return redirect("cases:detail", reference=reference)
    latest = selectors.latest_declaration(case, request.user)
    return render(
        request,
        "assessments/conflict.html",
        {"case": case, "form": form, "latest": latest},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def acknowledgment(request, reference):
    case = access.access_case(request.user, reference)
    place = access.access_own_place(request.user, case)
    if place.role != Role.RESPONSIBLE_PARTY:
        raise Http404
    form = forms.AcknowledgmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.acknowledgment_submit(actor=request.user, place=place, text=form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error("text", exc.message)
        else:
            messages.success(
                request, _("Thank you. Your facilitator will read it and talk it through with you.")
            )
            return redirect("cases:detail", reference=reference)
    context = {"case": case, "form": form, "state": selectors.acknowledgment_state(place)}
    return render(
        request, "assessments/acknowledgment.html", context, status=400 if request.method == "POST" else 200
    )


@require_http_methods(["GET", "POST"])
def program_questions(request, program_id):
    from django import forms as django_forms

    from mend.accounts.access import access_program_admin

    program = access_program_admin(request.user, program_id)
    _set, questions = selectors.current_questions(program, cybercrime=True)
    initial = "\n".join(f"{q['id']} | {q['section']} | {q['text']}" for q in questions)
    form = forms.QuestionsForm(request.POST or None, initial={"questions": initial})
    if request.method == "POST" and form.is_valid():
        try:
            services.question_set_update(actor=request.user, program=program, questions=form.parsed())
        except django_forms.ValidationError as exc:
            form.add_error("questions", exc)
        except DomainError as exc:
            form.add_error("questions", exc.message)
        else:
            messages.success(request, _("The questions are saved. New assessments will use them."))
            return redirect("programs:questions", program_id=program.pk)
    return render(
        request,
        "assessments/program_questions.html",
        {"program": program, "form": form},
        status=400 if request.method == "POST" else 200,
    )
