"""A case meeting's page, under /cases/<reference>/sessions/<session_id>/: when it is on each person's own
clock, a conference's agenda and round, check-in and check-out, who may need support, attendance, opening
and ending it, and each attendee's own invitation file. Thin views: access, one service call, respond."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mend.cases.models import Role
from mend.core.errors import DomainError
from mend.meetings import forms as meeting_forms
from mend.meetings import ics, rules
from mend.meetings import services as meetings
from mend.meetings.access import (
    MeetingAccess,
    access_meeting,
    access_meeting_attendee,
    access_meeting_facilitator,
    access_meeting_staff,
)
from mend.meetings.models import Attendance, MeetingFormat, MeetingKind, MeetingStatus


def _people(meeting: MeetingAccess) -> list[dict]:
    case = meeting.case
    rows = []
    for place in meetings.attendees_of(meeting.session):
        rows.append(
            {
                "place": place,
                "name": rules.name_of(meeting.session, place, staff_by_name=False),
                "role_word": case.program.word_for(place.role),
                "time_zone": meetings.zone(place.time_zone).key,
                "local": meetings.local_time(meeting.session.starts_at, place.time_zone),
            }
        )
    return rows


def _supporters(meeting: MeetingAccess, attendee_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """For each attendee, the people supporting them in the case, who could come with them."""
    options: dict[int, list[tuple[int, str]]] = {}
    supporters = meeting.case.participants.filter(
        role=Role.SUPPORTER, supports__in=attendee_ids, removed_at__isnull=True, joined_at__isnull=False
    ).order_by("pk")
    for place in supporters:
        options.setdefault(place.supports_id, []).append(
            (place.pk, rules.name_of(meeting.session, place, staff_by_name=False))
        )
    return options


def _page(request, meeting: MeetingAccess, *, refusal: str = "", status: int = 200, **forms):
    session, case = meeting.session, meeting.case
    people = _people(meeting)
    names = {row["place"].pk: row["name"] for row in people}
    rows = {a.participant_id: a for a in Attendance.objects.filter(session=session, participant_id__in=names)}
    mine = rows.get(meeting.place.pk) if meeting.place is not None else None
    now = timezone.now()
    going_ahead = session.status == MeetingStatus.SCHEDULED
    context = {
        "case": case,
        "session": session,
        "meeting": meeting,
        "people": people,
        "my_time": meetings.local_time(session.starts_at, meeting.time_zone),
        "my_end": meetings.local_clock(meetings.ends_at(session), meeting.time_zone),
        "my_zone": meetings.zone(meeting.time_zone).key,
        "scheduled_time": meetings.local_time(session.starts_at, session.time_zone),
        "is_conference": session.kind == MeetingKind.CONFERENCE,
        "speaking_order": [names[pk] for pk in session.speaking_order if pk in names],
        "with_supporters": [
            (names[pk], names.get(row.supporter_id) or _("a supporter"))
            for pk, row in rows.items()
            if row.supporter_id is not None
        ],
        "video_room": f"/meetings/{session.pk}/" if session.format == MeetingFormat.VIDEO else "",
        "mine": mine,
        "is_open": session.opened_at is not None and session.ended_at is None,
        "can_open": meetings.can_open(session, now),
        "refusal": refusal,
    }
    if meeting.place is not None and going_ahead and session.ended_at is None:
        opens = session.starts_at - meetings.CHECK_IN_FROM
        # Once the meeting is open, check-in stays for those who have not checked in yet.
        arrived = mine is not None and mine.arrival and session.opened_at is not None
        if opens <= now < meetings.ends_at(session) and not arrived:
            context["check_in_form"] = forms.get("check_in_form") or meeting_forms.CheckInForm(
                initial={"feeling": mine.arrival, "wants_support": mine.wants_support} if mine else None
            )
    if meeting.place is not None and session.opened_at is not None:
        context["check_out_form"] = forms.get("check_out_form") or meeting_forms.CheckOutForm(
            initial={"feeling": mine.departure, "wants_support": mine.wants_support} if mine else None
        )
    if meeting.facilitates:
        context["support"] = [
            {"name": names.get(row.participant_id, _("someone")), "row": row}
            for row in meetings.support_list(session)
            if row.participant_id in names
        ]
        context["feelings"] = [{"name": names[pk], "row": rows.get(pk)} for pk in names]
        if session.opened_at is not None:
            context["attendance_form"] = forms.get("attendance_form") or meeting_forms.AttendanceForm(
                people=list(names.items()),
                initial={"present": [pk for pk, row in rows.items() if row.attended]},
            )
    if meeting.staff:
        context["may_invite"] = going_ahead and session.starts_at > now
    return render(request, "meetings/meeting.html", context, status=status)


def _refused(request, meeting: MeetingAccess, exc: DomainError, **forms):
    return _page(request, meeting, refusal=exc.message, status=exc.status, **forms)


def _back(meeting: MeetingAccess):
    return redirect("sessions:meeting", reference=meeting.case.reference, session_id=meeting.session.pk)


@require_GET
def meeting(request, reference, session_id):
    return _page(request, access_meeting(request.user, reference, session_id))


def _feeling_view(request, reference, session_id, *, form_class, service, key: str, done: str):
    meeting = access_meeting_attendee(request.user, reference, session_id)
    form = form_class(request.POST)
    if not form.is_valid():
        return _page(request, meeting, status=400, **{key: form})
    try:
        service(
            actor=request.user,
            session=meeting.session,
            feeling=form.cleaned_data["feeling"],
            wants_support=form.cleaned_data["wants_support"],
        )
    except DomainError as exc:
        return _refused(request, meeting, exc, **{key: form})
    messages.success(request, done)
    return _back(meeting)


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
    meeting = access_meeting_facilitator(request.user, reference, session_id)
    people = [(row["place"].pk, row["name"]) for row in _people(meeting)]
    form = meeting_forms.AttendanceForm(request.POST, people=people)
    if not form.is_valid():
        return _page(request, meeting, status=400, attendance_form=form)
    try:
        meetings.attendance_record(
            actor=request.user, session=meeting.session, present=form.cleaned_data["present"]
        )
    except DomainError as exc:
        return _refused(request, meeting, exc, attendance_form=form)
    messages.success(request, _("Attendance is recorded."))
    return _back(meeting)


@require_POST
def open_meeting(request, reference, session_id):
    meeting = access_meeting_facilitator(request.user, reference, session_id)
    try:
        meetings.meeting_open(actor=request.user, session=meeting.session)
    except DomainError as exc:
        return _refused(request, meeting, exc)
    messages.success(request, _("The meeting is open."))
    return _back(meeting)


@require_POST
def end_meeting(request, reference, session_id):
    meeting = access_meeting_facilitator(request.user, reference, session_id)
    try:
        meetings.meeting_end(actor=request.user, session=meeting.session)
    except DomainError as exc:
        return _refused(request, meeting, exc)
    messages.success(request, _("The meeting has ended. Remember to record who was there."))
    return _back(meeting)


@require_POST
def send_invitations(request, reference, session_id):
    meeting = access_meeting_staff(request.user, reference, session_id)
    try:
        sent = meetings.invitations_send(actor=request.user, session=meeting.session)
    except DomainError as exc:
        return _refused(request, meeting, exc)
    if sent:
        messages.success(request, _("Invitations are on their way by email: %(n)d.") % {"n": sent})
    else:
        messages.info(request, _("Nobody attending gave an email address, so no emails went out."))
    return _back(meeting)


@require_GET
def invitation(request, reference, session_id):
    meeting = access_meeting_attendee(request.user, reference, session_id)
    body = ics.meeting_ics(meeting.session, meeting.place, email=meetings.email_of(meeting.place))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics.filename()}"'
    return response


@require_http_methods(["GET", "POST"])
def conference(request, reference, session_id):
    meeting = access_meeting_staff(request.user, reference, session_id)
    session = meeting.session
    people = [(row["place"].pk, row["name"]) for row in _people(meeting)]
    supporters = _supporters(meeting, [pk for pk, _name in people])
    initial = {"agenda": session.agenda}
    for turn, pk in enumerate(session.speaking_order, start=1):
        initial[f"turn_{pk}"] = turn
    for row in Attendance.objects.filter(session=session, supporter__isnull=False):
        initial[f"supporter_{row.participant_id}"] = row.supporter_id
    form = meeting_forms.ConferenceForm(
        request.POST or None, initial=initial, attendees=people, supporters=supporters
    )
    refusal, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            meetings.conference_set(
                actor=request.user,
                session=session,
                agenda=form.cleaned_data["agenda"],
                speaking_order=form.cleaned_data["speaking_order"],
                supporters=form.cleaned_data["supporters"],
            )
        except DomainError as exc:
            status = exc.status
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                refusal = exc.message
        else:
            messages.success(request, _("The conference is set up."))
            return _back(meeting)
    elif request.method == "POST":
        status = 400
    context = {
        "case": meeting.case,
        "session": session,
        "meeting": meeting,
        "form": form,
        "refusal": refusal,
        "is_conference": session.kind == MeetingKind.CONFERENCE,
    }
    return render(request, "meetings/meeting_conference.html", context, status=status)
