"""The circle pages: the list, starting and closing a circle, members, meetings, volunteers' vetting, and
the minutes composer. Each view parses, loads through circle_access, makes one service call and answers."""

import json
from datetime import datetime

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.cases.access import access_managed_case
from mend.circles import circle_forms as forms
from mend.circles import circle_selectors as selectors
from mend.circles import minutes as minutes_module
from mend.circles import standing
from mend.circles.circle_access import (
    access_circle,
    access_circle_member,
    access_managed_circle,
    access_minutes_meeting,
    access_staff_alert,
    programs_for_circles,
    programs_overseen,
)
from mend.circles.models import CircleKind
from mend.core import edges
from mend.meetings import form_refusal

# Where a service's field names land on the page's forms.
FIELD_ON_FORM = {"starts_at": "date", "case": "case_reference"}


def _form_page(request, template: str, context: dict, outcome: edges.Outcome, refusal: str):
    """The form's page again: 200 on a GET, the refusal's status when one names no field of the form, else
    400 (a field of the form says what to change)."""
    status = 200 if request.method == "GET" else (outcome.error.status if refusal else 400)
    return render(request, template, {**context, "refusal": refusal or None}, status=status)


def _step_answer(request, circle, outcome: edges.Outcome, done: str):
    """The circle's refusal page for a refusal, else `done` flashed and back to the circle."""
    if outcome.error is not None:
        context = {"circle": circle, "message": outcome.error.message}
        return render(request, "circles/refused.html", context, status=outcome.error.status)
    messages.success(request, done)
    return redirect("circles:detail", circle_id=circle.pk)


@require_GET
def circle_list(request):
    context = {
        "circles": selectors.circles_for(request.user),
        "may_start": programs_for_circles(request.user).exists(),
        "oversees": programs_overseen(request.user).exists(),
    }
    return render(request, "circles/list.html", context)


@require_http_methods(["GET", "POST"])
def circle_new(request):
    programs = list(programs_for_circles(request.user).distinct().order_by("name"))
    if not programs:
        raise Http404
    keepers = selectors.keepers_for(request.user, programs)
    # Not `request.POST or None`: an empty POST must be checked too, and told what is missing.
    data = request.POST if request.method == "POST" else None
    form = forms.CircleForm(data, programs=programs, keepers=keepers, initial={"keeper": request.user.pk})
    case = _case_named(request, form)
    outcome, refusal = form_refusal.submit(
        request, form, lambda d: _circle_create(request, d, programs, keepers, case), fields=FIELD_ON_FORM
    )
    if outcome.ok:
        messages.success(request, _("The circle is started. Now add its members."))
        return redirect("circles:detail", circle_id=outcome.value.pk)
    return _form_page(request, "circles/new.html", {"form": form}, outcome, refusal)


def _case_named(request, form):
    """The case a new circle is for, by its reference, when the user runs it; else the form says so."""
    if request.method != "POST" or not form.is_valid() or not form.cleaned_data["case_reference"].strip():
        return None
    try:
        return access_managed_case(request.user, form.cleaned_data["case_reference"].strip().upper())
    except Http404:
        form.add_error("case_reference", _("There is no case with that reference that you run."))
        return None


def _circle_create(request, data, programs, keepers, case):
    return standing.circle_create(
        actor=request.user,
        program=next(p for p in programs if p.pk == data["program"]),
        kind=data["kind"],
        name=data["name"],
        keeper=next(u for u, _program in keepers if u.pk == data["keeper"]),
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        meets_every_days=data["meets_every_days"],
        case=case,
    )


@require_GET
def circle_detail(request, circle_id):
    circle = access_circle(request.user, circle_id)
    context = {"circle": circle, "viewer": circle.viewer, **selectors.circle_page(circle)}
    return render(request, "circles/detail.html", context)


@require_http_methods(["GET", "POST"])
def member_add(request, circle_id):
    circle = access_managed_circle(request.user, circle_id)
    people = selectors.people_to_add(request.user, circle)
    form = forms.MemberForm(request.POST if request.method == "POST" else None, people=people)
    outcome, refusal = form_refusal.submit(
        request,
        form,
        lambda data: standing.member_add(
            actor=request.user,
            circle=circle,
            user=selectors.person(data["person"]),
            role=data["role"],
            name=data["name"],
        ),
        fields=FIELD_ON_FORM,
    )
    if outcome.ok:
        messages.success(request, _("%(name)s is in the circle.") % {"name": form.cleaned_data["name"]})
        return redirect("circles:detail", circle_id=circle.pk)
    context = {"circle": circle, "form": form, "is_cosa": circle.kind == CircleKind.COSA}
    return _form_page(request, "circles/member_add.html", context, outcome, refusal)


@require_POST
def member_remove(request, circle_id, member_id):
    circle = access_managed_circle(request.user, circle_id)
    member = access_circle_member(circle, member_id)
    outcome = edges.attempt(lambda: standing.member_remove(actor=request.user, member=member))
    return _step_answer(request, circle, outcome, _("%(name)s has left the circle.") % {"name": member.name})


@require_http_methods(["GET", "POST"])
def meeting_new(request, circle_id):
    circle = access_managed_circle(request.user, circle_id)
    members = selectors.current_members(circle)
    zone = request.user.time_zone or circle.program.time_zone
    data = request.POST if request.method == "POST" else None
    form = forms.MeetingForm(data, members=members, initial={"time_zone": zone})
    outcome, refusal = form_refusal.submit(
        request, form, lambda d: _meeting_schedule(request, circle, members, d), fields=FIELD_ON_FORM
    )
    if outcome.ok:
        messages.success(request, _("The meeting is scheduled."))
        return redirect("circles:detail", circle_id=circle.pk)
    return _form_page(request, "circles/meeting_new.html", {"circle": circle, "form": form}, outcome, refusal)


def _meeting_schedule(request, circle, members, data):
    return standing.circle_meeting_schedule(
        actor=request.user,
        circle=circle,
        format=data["format"],
        starts_at=datetime.combine(data["date"], data["time"]),
        time_zone=data["time_zone"],
        members=[m for m in members if m.pk in data["members"]],
        duration_minutes=data["duration_minutes"],
    )


@require_POST
def circle_close(request, circle_id):
    circle = access_managed_circle(request.user, circle_id)
    outcome = edges.attempt(lambda: standing.circle_close(actor=request.user, circle=circle))
    return _step_answer(request, circle, outcome, _("The circle is closed. Its record stays here."))


@require_http_methods(["GET", "POST"])
def vetting(request):
    if not programs_overseen(request.user).exists():
        raise Http404
    rows = selectors.volunteers_for(request.user)
    data = request.POST if request.method == "POST" else None
    form = forms.VettingForm(data, volunteers=selectors.vetting_choices(rows))
    outcome, refusal = form_refusal.submit(
        request, form, lambda d: _vetting_record(request, rows, d), fields=FIELD_ON_FORM
    )
    if outcome.ok:
        name = outcome.value.user.display_name
        messages.success(request, _("The vetting of %(name)s is recorded.") % {"name": name})
        return redirect("circles:vetting")
    return _form_page(request, "circles/vetting.html", {"rows": rows, "form": form}, outcome, refusal)


def _vetting_record(request, rows, data):
    membership = next(r["membership"] for r in rows if r["membership"].pk == data["volunteer"])
    standing.vetting_record(
        actor=request.user,
        program=membership.program,
        user=membership.user,
        training_completed_on=data["training_completed_on"],
        background_checked_on=data["background_checked_on"],
    )
    return membership


def _json_error(message: str, status: int, code: str = "form") -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)


@require_http_methods(["GET", "POST"])
def minutes(request, circle_id, session_id):
    """GET: the meeting's minutes page (sealing and opening happen in the browser). POST: the minutes as
    {"envelope": <envelope v2>, "concern": true|false}, sealed on the writer's device."""
    circle, session = access_minutes_meeting(request.user, circle_id, session_id)
    if request.method == "POST":
        return _minutes_post(request, session)
    recipients = selectors.minutes_recipients(circle)
    context = {
        "circle": circle,
        "viewer": circle.viewer,
        "session": session,
        "minutes": getattr(session, "minutes", None),
        "frame": selectors.minutes_frame(session),
        "reads": request.user.pk in {r["user"] for r in recipients["recipients"]},
        "conversation": standing.minutes_conversation(session),
        "due_at": minutes_module.minutes_due_at(session),
        "without_keys": recipients["without_keys"],
    }
    return render(request, "circles/minutes.html", context)


def _minutes_post(request, session):
    try:
        body = json.loads(request.body or b"")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any envelope
        return _json_error(_("The minutes could not be read. Please try again."), 400)
    if not isinstance(body, dict) or not isinstance(body.get("envelope"), dict):
        return _json_error(_('Send the minutes as {"envelope": ..., "concern": true or false}.'), 400)
    outcome = edges.attempt(
        lambda: standing.minutes_submit(
            actor=request.user, session=session, envelope=body["envelope"], concern=body.get("concern", False)
        )
    )
    if outcome.error is not None:
        return edges.json_refusal(outcome.error, code="conflict")
    minutes, created = outcome.value
    return JsonResponse(
        {"id": minutes.pk, "concern": minutes.concern, "duplicate": not created},
        status=201 if created else 200,
    )


@require_GET
def minutes_recipients(request, circle_id, session_id):
    """Whom the writer's browser seals the minutes to: the keeper and coordinators, with current keys."""
    circle, _session = access_minutes_meeting(request.user, circle_id, session_id)
    if not circle.viewer.writes_minutes:
        raise Http404
    return JsonResponse(selectors.minutes_recipients(circle))


@require_POST
def alert_read(request, alert_id):
    alert = access_staff_alert(request.user, alert_id)
    minutes_module.staff_alert_read(actor=request.user, alert=alert)
    return redirect("home")
