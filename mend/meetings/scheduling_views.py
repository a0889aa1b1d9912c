"""Scheduling, cancelling and restoring sessions: the guards decide, and say what is missing."""

from datetime import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mend.cases import access
from mend.core.errors import DomainError
from mend.meetings import scheduling as services
from mend.meetings import scheduling_forms as forms
from mend.meetings.models import Meeting


def _people(case):
    people = list(case.participants.filter(removed_at__isnull=True, joined_at__isnull=False).order_by("pk"))
    for place in people:
        place.role_word = case.program.word_for(place.role)
    return people


@require_http_methods(["GET", "POST"])
def schedule(request, reference):
    case = access.access_managed_case(request.user, reference)
    people = _people(case)
    form = forms.MeetingForm(
        request.POST or None,
        people=people,
        initial={"time_zone": request.user.time_zone or case.program.time_zone},
    )
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = [p for p in people if p.pk in data["attendees"]]
        try:
            services.session_schedule(
                actor=request.user,
                case=case,
                kind=data["kind"],
                format=data["format"],
                starts_at=datetime.combine(data["date"], data["time"]),
                time_zone=data["time_zone"],
                attendees=chosen,
                duration_minutes=data["duration_minutes"],
            )
        except DomainError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                refusal = exc.message
        else:
            messages.success(request, _("The session is scheduled."))
            return redirect("cases:detail", reference=reference)
    status = 200 if request.method == "GET" else (409 if refusal else 400)
    return render(
        request, "meetings/schedule.html", {"case": case, "form": form, "refusal": refusal}, status=status
    )


def _session(request, reference, session_id):
    case = access.access_managed_case(request.user, reference)
    session = Meeting.objects.filter(case=case, pk=session_id).first()
    if session is None:
        raise Http404
    return case, session


@require_POST
def cancel(request, reference, session_id):
    case, session = _session(request, reference, session_id)
    try:
        services.session_cancel(actor=request.user, session=session)
    except DomainError as exc:
        return render(
            request, "assessments/refused.html", {"case": case, "message": exc.message}, status=exc.status
        )
    messages.success(request, _("The session is cancelled."))
    return redirect("cases:detail", reference=reference)


@require_POST
def restore(request, reference, session_id):
    case, session = _session(request, reference, session_id)
    try:
        services.session_restore(actor=request.user, session=session)
    except DomainError as exc:
        return render(
            request, "assessments/refused.html", {"case": case, "message": exc.message}, status=exc.status
        )
    messages.success(request, _("The session is back on the schedule."))
    return redirect("cases:detail", reference=reference)
