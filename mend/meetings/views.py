"""A case meeting's page, under /cases/<reference>/sessions/<session_id>/: when it is on each person's own
clock, who attends (staff change it while it is ahead), a conference's agenda and round, check-in and
check-out, who may need support, attendance, opening and ending it, and each attendee's own invitation file.
Thin views: access, one service call, respond."""

from functools import partial

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.core import edges
from mend.meetings import contexts, form_refusal, ics, scheduling
from mend.meetings import forms as meeting_forms
from mend.meetings import services as meetings
from mend.meetings.access import MeetingAccess, access_meeting


def _page(request, meeting: MeetingAccess, *, refusal: str = "", status: int = 200, **forms):
    context = contexts.meeting_page(meeting, refusal=refusal, **forms)
    return render(request, "meetings/meeting.html", context, status=status)


def _back(meeting: MeetingAccess):
    return redirect("sessions:meeting", reference=meeting.case.reference, session_id=meeting.session.pk)


def _run(request, meeting: MeetingAccess, call, done: str, **forms):
    """Runs the service: a refusal shows the page again with its message (and the form sent), else `done`
    is flashed and the viewer goes back to the page."""
    outcome = edges.attempt(call)
    if outcome.error is not None:
        return _page(request, meeting, refusal=outcome.error.message, status=outcome.error.status, **forms)
    messages.success(request, done)
    return _back(meeting)


@require_GET
def meeting(request, reference, session_id):
    return _page(request, access_meeting(request.user, session_id, reference=reference))


@require_POST
def attendees(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="staff")
    form = contexts.attendees_form(meeting, request.POST)
    outcome, refusal = form_refusal.submit(
        request,
        form,
        lambda data: scheduling.meeting_attendees_change(
            actor=request.user,
            session=meeting.session,
            attendees=contexts.places_chosen(meeting, data["attendees"]),
        ),
    )
    if not outcome.ok:
        status = edges.form_status(request, outcome)
        return _page(request, meeting, refusal=refusal, status=status, attendees_form=form)
    for level, words in contexts.attendees_changed_words(outcome.value):
        getattr(messages, level)(request, words)
    return _back(meeting)


def _feeling_view(request, reference, session_id, *, form_class, service, key: str, done: str):
    meeting = access_meeting(request.user, session_id, reference=reference, must="attendee")
    form = form_class(request.POST)
    if not form.is_valid():
        return _page(request, meeting, status=400, **{key: form})
    data = form.cleaned_data
    call = partial(service, actor=request.user, session=meeting.session, feeling=data["feeling"])
    call = partial(call, wants_support=data["wants_support"])
    return _run(request, meeting, call, done, **{key: form})


@require_POST
def check_in(request, reference, session_id):
    return _feeling_view(
        request,
        reference,
        session_id,
        form_class=meeting_forms.CheckInForm,
        service=meetings.checkin_record,
        key="check_in_form",
        done=_("Thank you for checking in."),
    )


@require_POST
def check_out(request, reference, session_id):
    return _feeling_view(
        request,
        reference,
        session_id,
        form_class=meeting_forms.CheckOutForm,
        service=meetings.checkout_record,
        key="check_out_form",
        done=_("Thank you for checking out. Take care of yourself."),
    )


@require_POST
def attendance(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="facilitator")
    form = meeting_forms.AttendanceForm(request.POST, people=contexts.people_choices(meeting))
    if not form.is_valid():
        return _page(request, meeting, status=400, attendance_form=form)
    present = form.cleaned_data["present"]
    call = partial(meetings.attendance_record, actor=request.user, session=meeting.session, present=present)
    return _run(request, meeting, call, _("Attendance is recorded."), attendance_form=form)


@require_POST
def open_meeting(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="facilitator")
    call = partial(meetings.meeting_open, actor=request.user, session=meeting.session)
    return _run(request, meeting, call, _("The meeting is open."))


@require_POST
def end_meeting(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="facilitator")
    call = partial(meetings.meeting_end, actor=request.user, session=meeting.session)
    return _run(request, meeting, call, _("The meeting has ended. Remember to record who was there."))


@require_POST
def send_invitations(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="staff")
    outcome = edges.attempt(lambda: meetings.invitations_send(actor=request.user, session=meeting.session))
    if outcome.error is not None:
        return _page(request, meeting, refusal=outcome.error.message, status=outcome.error.status)
    if outcome.value:
        messages.success(request, _("Invitations are on their way by email: %(n)d.") % {"n": outcome.value})
    else:
        messages.info(request, _("Nobody attending gave an email address, so no emails went out."))
    return _back(meeting)


@require_GET
def invitation(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="attendee")
    body = ics.meeting_ics(meeting.session, meeting.place, email=meetings.email_of(meeting.place))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics.filename()}"'
    return response


@require_http_methods(["GET", "POST"])
def conference(request, reference, session_id):
    meeting = access_meeting(request.user, session_id, reference=reference, must="staff")
    form = contexts.conference_form(meeting, request.POST or None)
    outcome, refusal = form_refusal.submit(
        request,
        form,
        lambda data: meetings.conference_set(
            actor=request.user,
            session=meeting.session,
            agenda=data["agenda"],
            speaking_order=data["speaking_order"],
            supporters=data["supporters"],
        ),
    )
    if outcome.ok:
        messages.success(request, _("The conference is set up."))
        return _back(meeting)
    context = contexts.conference_page(meeting, form, refusal)
    return render(
        request, "meetings/meeting_conference.html", context, status=edges.form_status(request, outcome)
    )
