"""Case pages for staff and participants: parse, access, one service call, respond."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.cases import access, contexts, forms, selectors, services
from mend.consent import services as consent_services
from mend.core import edges

UNKNOWN_STEP = gettext_noop("That step is not one Mend knows. Use the buttons below.")
CHOOSE_DECISION = gettext_noop("Choose to approve or decline the request.")
ASSIGNED = gettext_noop("%(name)s is assigned. They will be asked to declare any conflict of interest.")
WRITE_A_REASON = gettext_noop("Write a short reason, 3 to 500 characters. Only the team will see it.")
CHOOSE_SETTINGS = gettext_noop("Choose a time zone and a language from the lists.")
EXCLUDED = gettext_noop(
    "%(name)s is marked as not taking part for now. The others are told only that one person will not "
    "take part for now. They can come back by giving their consent to take part again."
)
SETTINGS_SAVED = gettext_noop("The time zone and language of %(name)s are saved.")
CHOOSE_PARTY = gettext_noop("Choose which party the interpreter helps, or nobody.")
INTERPRETER_SAVED = gettext_noop(
    "Saved. The interpreter joins that person's conversations and meetings once the person agrees to it."
)
JOIN_REQUESTED = gettext_noop(
    "Your request to join this case is waiting. Another staff member who runs the case must approve "
    "it; the people in the case will then be told that you joined."
)


def _staff_only(request):
    if not request.user.is_staff_member:
        raise Http404


@require_GET
def home(request):
    if not request.user.is_staff_member:
        context = contexts.participant_home(request.user)
        cases = context["cases"]
        if len(cases) == 1 and not context["in_circles"]:
            return redirect("cases:detail", reference=cases[0].reference)
        return render(request, "cases/participant_home.html", context)
    return render(request, "cases/dashboard.html", contexts.dashboard(request.user))


@require_GET
def case_list(request):
    _staff_only(request)
    facilitators = list(selectors.facilitators_visible_to(request.user))
    form = forms.CaseFilterForm(request.GET or None, facilitators=facilitators)
    valid = form.is_valid()
    context = contexts.case_list(request.user, form, form.cleaned_data if valid else {})
    return render(request, "cases/list.html", context, status=200 if valid or not request.GET else 400)


def _case_create(request, form):
    def create(data):
        program = access.access_program_for_intake(request.user, data["program"])
        fields = ("harm_category", "referral_source", "referral_details", "intake_notes")
        facilitator = request.user if data["assign_me"] else None
        return services.case_create(
            actor=request.user,
            program=program,
            jurisdictions=form.jurisdiction_list(),
            facilitator=facilitator,
            **{name: data[name] for name in fields},
        )

    return create


@require_http_methods(["GET", "POST"])
def intake(request):
    _staff_only(request)
    programs = list(access.programs_for_intake(request.user))
    if not programs:
        raise Http404
    # Not `request.POST or None`: an empty POST must be checked too, and told what is missing.
    form = forms.IntakeForm(request.POST if request.method == "POST" else None, programs=programs)
    outcome = edges.submit(request, form, _case_create(request, form))
    if outcome.ok:
        messages.success(request, _("Case %(ref)s is open.") % {"ref": outcome.value.reference})
        return redirect("cases:detail", reference=outcome.value.reference)
    return render(request, "cases/intake.html", {"form": form}, status=edges.form_status(request))


@require_GET
def detail(request, reference):
    case = access.access_case(request.user, reference)
    if not request.user.is_staff_member or not access.manages_case(request.user, case.pk):
        place = access.access_own_place(request.user, case)
        return render(request, "cases/participant_detail.html", contexts.participant_detail(case, place))
    return _staff_detail(request, case)


def _staff_detail(request, case, *, invite_form=None, assign_form=None, error: str = "", status: int = 200):
    """The staff case page, shown again with the form or refusal of a step that did not go through."""
    new_link = request.session.pop(f"new_link:{case.reference}", None)
    context = contexts.staff_detail(
        case,
        request.user,
        new_link=new_link,
        invite_form_shown=invite_form,
        assign_form=assign_form,
        error=error,
    )
    return render(request, "cases/detail.html", context, status=status)


def _staff_refused(request, case, outcome: edges.Outcome, **forms_shown):
    return _staff_detail(
        request,
        case,
        error="" if forms_shown else outcome.error.message,
        status=outcome.status,
        **forms_shown,
    )


@require_POST
def transition(request, reference):
    case = access.access_managed_case(request.user, reference)
    form = forms.TransitionForm(request.POST)
    if not form.is_valid():
        return _staff_detail(request, case, error=_(UNKNOWN_STEP), status=400)
    outcome = edges.attempt(
        lambda: services.case_transition(actor=request.user, case=case, **form.cleaned_data)
    )
    if not outcome.ok:
        return _staff_refused(request, case, outcome)
    stage = outcome.value.get_stage_display().lower()
    messages.success(request, _("The case is now at the %(stage)s stage.") % {"stage": stage})
    return redirect("cases:detail", reference=reference)


@require_POST
def invite(request, reference):
    case = access.access_managed_case(request.user, reference)
    participants = contexts.present_participants(case)
    form = contexts.invite_form(case, participants, request.POST)
    if not form.is_valid():
        return _staff_detail(request, case, invite_form=form, status=400)
    supports = next((p for p in participants if p.pk == form.cleaned_data["supports"]), None)
    fields = {name: form.cleaned_data[name] for name in ("role", "expires_in_days")}
    outcome = edges.attempt(
        lambda: services.participant_invite(actor=request.user, case=case, supports=supports, **fields)
    )
    if not outcome.ok:
        edges.refuse_into(form, outcome.error)
        return _staff_refused(request, case, outcome, invite_form=form)
    # The raw link is shown once, on the next page, and is then gone from the session.
    link = request.build_absolute_uri(reverse("join", args=[outcome.value[1]]))
    request.session[f"new_link:{case.reference}"] = link
    return redirect(reverse("cases:detail", args=[reference]) + "#invite")


@require_POST
def revoke_invitation(request, reference, invitation_id):
    case = access.access_managed_case(request.user, reference)
    invitation = access.access_case_invitation(request.user, case, invitation_id)
    outcome = edges.attempt(lambda: services.invitation_revoke(actor=request.user, invitation=invitation))
    if not outcome.ok:
        return _staff_refused(request, case, outcome)
    messages.success(request, _("That link no longer works."))
    return redirect("cases:detail", reference=reference)


@require_POST
def assign(request, reference):
    case = access.access_managed_case(request.user, reference)
    candidates = selectors.facilitator_candidates(case)
    form = forms.AssignForm(request.POST, candidates=candidates, prefix="assign")
    if not form.is_valid():
        return _staff_detail(request, case, assign_form=form, status=400)
    user = next(u for u in candidates if u.pk == form.cleaned_data["facilitator"])
    role = form.cleaned_data["role"]
    if user.pk == request.user.pk:
        # Joining a case's team oneself takes a colleague's approval: the request waits on the case page.
        call, done = (
            lambda: services.assignment_request_create(actor=request.user, case=case, role=role),
            _(JOIN_REQUESTED),
        )
    else:
        call = lambda: services.facilitator_assign(actor=request.user, case=case, user=user, role=role)  # noqa: E731
        done = _(ASSIGNED) % {"name": user.display_name}
    outcome = edges.attempt(call)
    if not outcome.ok:
        form.add_error(None, outcome.error.message)
        return _staff_refused(request, case, outcome, assign_form=form)
    messages.success(request, done)
    return redirect("cases:detail", reference=reference)


@require_POST
def assignment_decide(request, reference, request_id):
    case = access.access_managed_case(request.user, reference)
    waiting = contexts.pending_request(case, request_id)
    if waiting is None:
        raise Http404
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        return _staff_detail(request, case, error=_(CHOOSE_DECISION), status=400)
    approve = decision == "approve"
    outcome = edges.attempt(
        lambda: services.assignment_request_decide(actor=request.user, request=waiting, approve=approve)
    )
    if not outcome.ok:
        return _staff_refused(request, case, outcome)
    done = (
        _("%(name)s has joined the case. The people in it have been told.")
        if approve
        else _("The request of %(name)s is closed.")
    )
    messages.success(request, done % {"name": waiting.requested_by.display_name})
    return redirect("cases:detail", reference=reference)


@require_POST
def person_exclude(request, reference, participant_id):
    """Marks a party as not taking part for now, with a reason kept for the team."""
    case = access.access_managed_case(request.user, reference)
    place = access.access_case_place(request.user, case, participant_id)
    form = forms.ExcludeForm(request.POST, prefix=f"x{participant_id}")
    if not form.is_valid():
        return _staff_detail(request, case, error=_(WRITE_A_REASON), status=400)
    outcome = edges.attempt(
        lambda: consent_services.participant_exclude(
            actor=request.user, place=place, reason=form.cleaned_data["reason"]
        )
    )
    if not outcome.ok:
        return _staff_refused(request, case, outcome)
    messages.success(request, _(EXCLUDED) % {"name": place.pseudonym})
    return redirect("cases:detail", reference=reference)


@require_POST
def person_settings(request, reference, participant_id):
    """A person's time zone and language in this case."""
    case = access.access_managed_case(request.user, reference)
    place = access.access_case_place(request.user, case, participant_id)
    form = forms.PersonSettingsForm(request.POST, prefix=f"p{participant_id}")
    if not form.is_valid():
        return _staff_detail(request, case, error=_(CHOOSE_SETTINGS), status=400)
    outcome = edges.attempt(
        lambda: services.participant_settings_update(actor=request.user, place=place, **form.cleaned_data)
    )
    if not outcome.ok:
        return _staff_refused(request, case, outcome)
    messages.success(request, _(SETTINGS_SAVED) % {"name": place.pseudonym})
    return redirect("cases:detail", reference=reference)


@require_POST
def person_interpreter(request, reference, participant_id):
    """Which party an interpreter helps (or nobody): staff who run the case attach them."""
    case = access.access_managed_case(request.user, reference)
    place = access.access_case_place(request.user, case, participant_id)
    participants = contexts.present_participants(case)
    form = contexts.interpreter_form(case, participants, place, request.POST)
    if not form.is_valid():
        return _staff_detail(request, case, error=_(CHOOSE_PARTY), status=400)
    party = next((p for p in participants if p.pk == form.cleaned_data["party"]), None)
    outcome = edges.attempt(
        lambda: services.interpreter_attach(actor=request.user, interpreter=place, party=party)
    )
    if not outcome.ok:
        return _staff_refused(request, case, outcome)
    messages.success(request, _(INTERPRETER_SAVED))
    return redirect("cases:detail", reference=reference)
