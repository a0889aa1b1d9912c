"""Case pages for staff and participants: parse, access, one service call, respond."""

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.cases import access, forms, guidance, selectors, services, timeline, workflow
from mend.cases.models import PARTY_ROLES, Participant
from mend.circles.minutes import alerts_for
from mend.core.errors import DomainError


def _staff_only(request):
    if not request.user.is_staff_member:
        raise Http404


@require_GET
def home(request):
    if not request.user.is_staff_member:
        cases = list(access.cases_taken_part_in(request.user).order_by("-updated_at")[:20])
        in_circles = request.user.circle_places.filter(left_at__isnull=True).exists()
        if len(cases) == 1 and not in_circles:
            return redirect("cases:detail", reference=cases[0].reference)
        return render(request, "cases/participant_home.html", {"cases": cases, "in_circles": in_circles})
    context = {
        # The newest cases the user facilitates, read like a page of the case list filtered by them.
        "mine": selectors.case_page(user=request.user, facilitator_id=request.user.pk).cases[:10],
        "waiting": selectors.waiting_for(request.user),
        "notices": selectors.notices_for_staff(request.user),
        "administered": selectors.programs_administered(request.user),
        "staff_alerts": alerts_for(request.user),
    }
    return render(request, "cases/dashboard.html", context)


@require_GET
def case_list(request):
    _staff_only(request)
    facilitators = list(selectors.facilitators_visible_to(request.user))
    form = forms.CaseFilterForm(request.GET or None, facilitators=facilitators)
    valid = form.is_valid()
    filters = form.cleaned_data if valid else {}
    page = selectors.case_page(
        user=request.user,
        stage=filters.get("stage", ""),
        category=filters.get("category", ""),
        facilitator_id=filters.get("facilitator"),
        after=filters.get("after"),
        before=filters.get("before"),
    )
    # The page links keep the filters the page was read with; a bad one was left out, so they are too.
    query = QueryDict(mutable=True)
    for name in ("stage", "category", "facilitator"):
        if filters.get(name):
            query[name] = filters[name]
    return render(
        request,
        "cases/list.html",
        {"form": form, "page": page, "query": query.urlencode(), "count_cap": selectors.COUNT_CAP},
        status=200 if valid or not request.GET else 400,
    )


@require_http_methods(["GET", "POST"])
def intake(request):
    _staff_only(request)
    programs = list(access.programs_for_intake(request.user))
    if not programs:
        raise Http404
    # Not `request.POST or None`: an empty POST must be checked too, and told what is missing.
    form = forms.IntakeForm(request.POST if request.method == "POST" else None, programs=programs)
    if request.method == "POST" and form.is_valid():
        program = access.access_program_for_intake(request.user, form.cleaned_data["program"])
        try:
            case = services.case_create(
                actor=request.user,
                program=program,
                harm_category=form.cleaned_data["harm_category"],
                jurisdictions=form.jurisdiction_list(),
                referral_source=form.cleaned_data["referral_source"],
                referral_details=form.cleaned_data["referral_details"],
                intake_notes=form.cleaned_data["intake_notes"],
                facilitator=request.user if form.cleaned_data["assign_me"] else None,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Case %(ref)s is open.") % {"ref": case.reference})
            return redirect("cases:detail", reference=case.reference)
    return render(
        request, "cases/intake.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@require_GET
def detail(request, reference):
    case = access.access_case(request.user, reference)
    if not request.user.is_staff_member or not access.manages_case(request.user, case.pk):
        return _participant_detail(request, case)
    return _staff_detail(request, case)


def _staff_detail(request, case, *, invite_form=None, assign_form=None, error: str = "", status: int = 200):
    context = selectors.case_detail(case)
    context.update(
        case=case,
        actions=workflow.actions_from(case.stage),
        timeline=timeline.timeline(context.pop("events"), case.program),
        invite_form=invite_form or _invite_form(case, context["participants"]),
        new_link=request.session.pop(f"new_link:{case.reference}", None),
        error=error,
        close_form=forms.CloseForm(),
        assign_form=assign_form or forms.AssignForm(candidates=selectors.facilitator_candidates(case)),
        assignment_requests=selectors.pending_assignment_requests(case),
        **selectors.preparation_overview(case, request.user),
    )
    return render(request, "cases/detail.html", context, status=status)


def _participant_detail(request, case):
    place = access.access_own_place(request.user, case)
    context = selectors.participant_overview(place)
    context.update(
        case=case,
        place=place,
        role_word=case.program.word_for(place.role),
        next_step=guidance.NEXT_FOR_PARTICIPANT[case.stage],
    )
    return render(request, "cases/participant_detail.html", context)


def _invite_form(case, participants, data=None):
    parties = [p for p in participants if p.role in PARTY_ROLES and p.has_joined]
    return forms.InviteForm(data, parties=parties, role_words=case.program.word_for)


@require_POST
def transition(request, reference):
    case = access.access_managed_case(request.user, reference)
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        return _staff_detail(
            request, case, error=_("That step is not one Mend knows. Use the buttons below."), status=400
        )
    try:
        case = services.case_transition(actor=request.user, case=case, **form.cleaned_data)
    except DomainError as error:
        return _staff_detail(request, case, error=error.message, status=error.status)
    messages.success(
        request, _("The case is now at the %(stage)s stage.") % {"stage": case.get_stage_display().lower()}
    )
    return redirect("cases:detail", reference=reference)


@require_POST
def invite(request, reference):
    case = access.access_managed_case(request.user, reference)
    participants = list(Participant.objects.filter(case=case, removed_at__isnull=True))
    form = _invite_form(case, participants, request.POST)
    if not form.is_valid():
        return _staff_detail(request, case, invite_form=form, status=400)
    supports = next((p for p in participants if p.pk == form.cleaned_data["supports"]), None)
    try:
        _invitation, raw = services.participant_invite(
            actor=request.user,
            case=case,
            role=form.cleaned_data["role"],
            supports=supports,
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _staff_detail(request, case, invite_form=form, status=error.status)
    # The raw link is shown once, on the next page, and is then gone from the session.
    request.session[f"new_link:{case.reference}"] = request.build_absolute_uri(reverse("join", args=[raw]))
    return redirect(reverse("cases:detail", args=[reference]) + "#invite")


@require_POST
def revoke_invitation(request, reference, invitation_id):
    case = access.access_managed_case(request.user, reference)
    invitation = access.access_invitation(request.user, invitation_id)
    if invitation.participant.case_id != case.pk:
        raise Http404
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except DomainError as error:
        return _staff_detail(request, case, error=error.message, status=error.status)
    messages.success(request, _("That link no longer works."))
    return redirect("cases:detail", reference=reference)


@require_POST
def assign(request, reference):
    case = access.access_managed_case(request.user, reference)
    candidates = selectors.facilitator_candidates(case)
    form = forms.AssignForm(request.POST, candidates=candidates)
    if not form.is_valid():
        return _staff_detail(request, case, assign_form=form, status=400)
    user = next(u for u in candidates if u.pk == form.cleaned_data["facilitator"])
    if user.pk == request.user.pk:
        return _self_assign(request, case, form)
    try:
        services.facilitator_assign(actor=request.user, case=case, user=user, role=form.cleaned_data["role"])
    except DomainError as error:
        form.add_error(None, error.message)
        return _staff_detail(request, case, assign_form=form, status=error.status)
    messages.success(
        request,
        _("%(name)s is assigned. They will be asked to declare any conflict of interest.")
        % {"name": user.display_name},
    )
    return redirect("cases:detail", reference=reference)


def _self_assign(request, case, form):
    """Joining a case's team oneself takes a colleague's approval: the request waits on the case page."""
    try:
        services.assignment_request_create(actor=request.user, case=case, role=form.cleaned_data["role"])
    except DomainError as error:
        form.add_error(None, error.message)
        return _staff_detail(request, case, assign_form=form, status=error.status)
    messages.success(
        request,
        _(
            "Your request to join this case is waiting. Another staff member who runs the case must approve "
            "it; the people in the case will then be told that you joined."
        ),
    )
    return redirect("cases:detail", reference=case.reference)


@require_POST
def assignment_decide(request, reference, request_id):
    case = access.access_managed_case(request.user, reference)
    waiting = next((r for r in selectors.pending_assignment_requests(case) if r.pk == request_id), None)
    if waiting is None:
        raise Http404
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        return _staff_detail(request, case, error=_("Choose to approve or decline the request."), status=400)
    try:
        services.assignment_request_decide(actor=request.user, request=waiting, approve=decision == "approve")
    except DomainError as error:
        return _staff_detail(request, case, error=error.message, status=error.status)
    if decision == "approve":
        done = _("%(name)s has joined the case. The people in it have been told.")
    else:
        done = _("The request of %(name)s is closed.")
    messages.success(request, done % {"name": waiting.requested_by.display_name})
    return redirect("cases:detail", reference=reference)
