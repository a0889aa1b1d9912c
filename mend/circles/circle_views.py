"""The circle pages: the list, starting and closing a circle, members, meetings, volunteers' vetting, and
the minutes composer. Each view parses, loads through circle_access, makes one service call and answers."""

import json
from datetime import datetime

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.accounts.models import User
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
from mend.core.errors import DomainError

# Where a service's field names land on the page's forms.
FIELD_ON_FORM = {"starts_at": "date", "case": "case_reference"}


def _show_error(form, exc: DomainError) -> DomainError | None:
    """Puts a service's refusal on its field; returns it when it belongs to no field."""
    field = FIELD_ON_FORM.get(exc.field, exc.field)
    if field in form.fields:
        form.add_error(field, exc.message)
        return None
    return exc


def _status(request, refusal: DomainError | None) -> int:
    if request.method == "GET":
        return 200
    return refusal.status if refusal else 400


def _refused(request, circle, message: str, status: int):
    return render(request, "circles/refused.html", {"circle": circle, "message": message}, status=status)


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
    form = forms.CircleForm(
        request.POST if request.method == "POST" else None,
        programs=programs,
        keepers=keepers,
        initial={"keeper": request.user.pk},
    )
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        program = next(p for p in programs if p.pk == data["program"])
        keeper = next(u for u, _program in keepers if u.pk == data["keeper"])
        case = None
        if data["case_reference"].strip():
            try:
                case = access_managed_case(request.user, data["case_reference"].strip().upper())
            except Http404:
                form.add_error("case_reference", _("There is no case with that reference that you run."))
        if form.is_valid():
            try:
                circle = standing.circle_create(
                    actor=request.user,
                    program=program,
                    kind=data["kind"],
                    name=data["name"],
                    keeper=keeper,
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    meets_every_days=data["meets_every_days"],
                    case=case,
                )
            except DomainError as exc:
                refusal = _show_error(form, exc)
            else:
                messages.success(request, _("The circle is started. Now add its members."))
                return redirect("circles:detail", circle_id=circle.pk)
    return render(
        request,
        "circles/new.html",
        {"form": form, "refusal": refusal and refusal.message},
        status=_status(request, refusal),
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
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            standing.member_add(
                actor=request.user,
                circle=circle,
                user=User.objects.get(pk=data["person"]),
                role=data["role"],
                name=data["name"],
            )
        except DomainError as exc:
            refusal = _show_error(form, exc)
        else:
            messages.success(request, _("%(name)s is in the circle.") % {"name": data["name"]})
            return redirect("circles:detail", circle_id=circle.pk)
    context = {
        "circle": circle,
        "form": form,
        "refusal": refusal and refusal.message,
        "is_cosa": circle.kind == CircleKind.COSA,
    }
    return render(request, "circles/member_add.html", context, status=_status(request, refusal))


@require_POST
def member_remove(request, circle_id, member_id):
    circle = access_managed_circle(request.user, circle_id)
    member = access_circle_member(circle, member_id)
    try:
        standing.member_remove(actor=request.user, member=member)
    except DomainError as exc:
        return _refused(request, circle, exc.message, exc.status)
    messages.success(request, _("%(name)s has left the circle.") % {"name": member.name})
    return redirect("circles:detail", circle_id=circle.pk)


@require_http_methods(["GET", "POST"])
def meeting_new(request, circle_id):
    circle = access_managed_circle(request.user, circle_id)
    members = list(circle.members.filter(left_at__isnull=True).order_by("role", "name", "pk"))
    form = forms.MeetingForm(
        request.POST if request.method == "POST" else None,
        members=members,
        initial={"time_zone": request.user.time_zone or circle.program.time_zone},
    )
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            standing.circle_meeting_schedule(
                actor=request.user,
                circle=circle,
                format=data["format"],
                starts_at=datetime.combine(data["date"], data["time"]),
                time_zone=data["time_zone"],
                members=[m for m in members if m.pk in data["members"]],
                duration_minutes=data["duration_minutes"],
            )
        except DomainError as exc:
            refusal = _show_error(form, exc)
        else:
            messages.success(request, _("The meeting is scheduled."))
            return redirect("circles:detail", circle_id=circle.pk)
    context = {"circle": circle, "form": form, "refusal": refusal and refusal.message}
    return render(request, "circles/meeting_new.html", context, status=_status(request, refusal))


@require_POST
def circle_close(request, circle_id):
    circle = access_managed_circle(request.user, circle_id)
    try:
        standing.circle_close(actor=request.user, circle=circle)
    except DomainError as exc:
        return _refused(request, circle, exc.message, exc.status)
    messages.success(request, _("The circle is closed. Its record stays here."))
    return redirect("circles:detail", circle_id=circle.pk)


@require_http_methods(["GET", "POST"])
def vetting(request):
    if not programs_overseen(request.user).exists():
        raise Http404
    rows = selectors.volunteers_for(request.user)
    many = len({row["membership"].program_id for row in rows}) > 1
    choices = [
        (
            row["membership"].pk,
            f"{row['membership'].user.display_name} ({row['membership'].program.name})"
            if many
            else row["membership"].user.display_name,
        )
        for row in rows
    ]
    form = forms.VettingForm(request.POST if request.method == "POST" else None, volunteers=choices)
    refusal = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        membership = next(r["membership"] for r in rows if r["membership"].pk == data["volunteer"])
        try:
            standing.vetting_record(
                actor=request.user,
                program=membership.program,
                user=membership.user,
                training_completed_on=data["training_completed_on"],
                background_checked_on=data["background_checked_on"],
            )
        except DomainError as exc:
            refusal = _show_error(form, exc)
        else:
            messages.success(
                request, _("The vetting of %(name)s is recorded.") % {"name": membership.user.display_name}
            )
            return redirect("circles:vetting")
    context = {"rows": rows, "form": form, "refusal": refusal and refusal.message}
    return render(request, "circles/vetting.html", context, status=_status(request, refusal))


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
    try:
        minutes, created = standing.minutes_submit(
            actor=request.user, session=session, envelope=body["envelope"], concern=body.get("concern", False)
        )
    except DomainError as exc:
        return _json_error(exc.message, exc.status, getattr(exc, "code", "conflict"))
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
