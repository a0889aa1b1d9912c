"""Scheduling, cancelling and restoring sessions: the guards decide, and say what is missing."""

from datetime import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mend.cases import access
from mend.core import edges
from mend.meetings import contexts, form_refusal
from mend.meetings import scheduling as services
from mend.meetings import scheduling_forms as forms
from mend.meetings.access import access_meeting


@require_http_methods(["GET", "POST"])
def schedule(request, reference):
    case = access.access_managed_case(request.user, reference)
    people, left_out = contexts.schedule_people(case), contexts.schedule_left_out(case)
    zone = request.user.time_zone or case.program.time_zone
    form = forms.MeetingForm(
        request.POST or None, people=people, left_out=left_out, initial={"time_zone": zone}
    )
    outcome, refusal = form_refusal.submit(
        request, form, lambda data: _schedule(request, case, people + left_out, data)
    )
    if outcome.ok:
        messages.success(request, _("The session is scheduled."))
        return redirect("cases:detail", reference=reference)
    status = 200 if request.method == "GET" else (409 if refusal else 400)
    context = {"case": case, "form": form, "refusal": refusal}
    return render(request, "meetings/schedule.html", context, status=status)


def _schedule(request, case, people, data):
    return services.meeting_schedule(
        actor=request.user,
        case=case,
        kind=data["kind"],
        format=data["format"],
        starts_at=datetime.combine(data["date"], data["time"]),
        time_zone=data["time_zone"],
        attendees=[p for p in people if p.pk in data["attendees"]],
        duration_minutes=data["duration_minutes"],
    )


def _change(request, reference, session_id, service, done: str):
    """Cancels or restores a meeting of a case the user runs; a refusal is the case's refusal page."""
    meeting = access_meeting(request.user, session_id, reference=reference, must="staff")
    outcome = edges.attempt(lambda: service(actor=request.user, session=meeting.session))
    if outcome.error is not None:
        context = {"case": meeting.case, "message": outcome.error.message}
        return render(request, "assessments/refused.html", context, status=outcome.error.status)
    messages.success(request, done)
    return redirect("cases:detail", reference=reference)


@require_POST
def cancel(request, reference, session_id):
    return _change(request, reference, session_id, services.meeting_cancel, _("The session is cancelled."))


@require_POST
def restore(request, reference, session_id):
    return _change(
        request, reference, session_id, services.meeting_restore, _("The session is back on the schedule.")
    )
