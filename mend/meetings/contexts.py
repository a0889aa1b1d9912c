"""The meeting pages' contexts: the reads each page needs (a case meeting's page, its conference set-up,
the video room's page), put together for its template, so the views only check access, call and answer."""

import json

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from mend.cases.models import Participant, Role
from mend.meetings import clock, rules, scheduling
from mend.meetings import forms as meeting_forms
from mend.meetings import services as meetings
from mend.meetings.access import MeetingAccess
from mend.meetings.models import Attendance, MeetingFormat, MeetingKind, MeetingStatus
from mend.meetings.scheduling_forms import AttendeesForm
from mend.readiness.rules import LEFT_OUT, standing_of
from mend.readiness.snapshot import consent_snapshot


def people(meeting: MeetingAccess) -> list[dict]:
    """The people attending a case meeting, each with their name, role word and own clock. A viewer who is
    not staff sees the people they may not see (rules.unseen_by) only as "another participant": no name,
    no role, no place, no clock."""
    case = meeting.case
    hidden = set() if meeting.staff else rules.unseen_by(meeting.session, meeting.place)
    rows = []
    for place in meetings.attendees_of(meeting.session):
        if place.pk in hidden:
            rows.append({"place": None, "pk": place.pk, "name": _("another participant"), "role_word": ""})
            continue
        rows.append(
            {
                "place": place,
                "pk": place.pk,
                "name": rules.name_of(meeting.session, place, staff_by_name=False),
                "role_word": case.program.word_for(place.role),
                "time_zone": clock.zone(place.time_zone).key,
                "local": clock.local_time(meeting.session.starts_at, place.time_zone),
                "at_night": clock.at_night(meeting.session, place.time_zone),
            }
        )
    return rows


def people_choices(meeting: MeetingAccess) -> list[tuple[int, str]]:
    return [(row["pk"], row["name"]) for row in people(meeting)]


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


def meeting_page(meeting: MeetingAccess, *, refusal: str = "", **forms) -> dict:
    """A case meeting's page: when it is on each clock, its conference round, who needs support, and the
    forms this viewer may use now (check-in, check-out, attendance); `forms` are ones shown again."""
    session = meeting.session
    rows_people = people(meeting)
    names = {row["pk"]: row["name"] for row in rows_people}
    rows = {a.participant_id: a for a in Attendance.objects.filter(session=session, participant_id__in=names)}
    mine = rows.get(meeting.place.pk) if meeting.place is not None else None
    now = timezone.now()
    context = {
        "case": meeting.case,
        "session": session,
        "meeting": meeting,
        "people": rows_people,
        "people_at_night": any(row.get("at_night") for row in rows_people),
        "my_time": clock.local_time(session.starts_at, meeting.time_zone),
        "my_end": clock.local_clock(clock.ends_at(session), meeting.time_zone),
        "my_zone": clock.zone(meeting.time_zone).key,
        "scheduled_time": clock.local_time(session.starts_at, session.time_zone),
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
    context.update(_own_forms(meeting, mine, now, forms))
    if meeting.facilitates:
        context.update(_facilitator_part(meeting, names, rows, forms))
    if meeting.staff:
        context["may_invite"] = session.status == MeetingStatus.SCHEDULED and session.starts_at > now
        # A form sent back with errors is shown again even if the meeting can no longer change meanwhile.
        sent = forms.get("attendees_form")
        if (sent is not None and sent.errors) or not scheduling.attendees_fixed(session, now):
            context["attendees_form"] = sent or attendees_form(meeting)
    return context


def _own_forms(meeting: MeetingAccess, mine: Attendance | None, now, forms: dict) -> dict:
    """An attendee's check-in (from a while before the start until the end, while they have not arrived
    at an open meeting) and check-out (once it is open)."""
    session, shown = meeting.session, {}
    going_ahead = session.status == MeetingStatus.SCHEDULED
    if meeting.place is not None and going_ahead and session.ended_at is None:
        opens = session.starts_at - meetings.CHECK_IN_FROM
        # Once the meeting is open, check-in stays for those who have not checked in yet.
        arrived = mine is not None and mine.arrival and session.opened_at is not None
        if opens <= now < clock.ends_at(session) and not arrived:
            shown["check_in_form"] = forms.get("check_in_form") or meeting_forms.CheckInForm(
                initial={"feeling": mine.arrival, "wants_support": mine.wants_support} if mine else None
            )
    if meeting.place is not None and session.opened_at is not None:
        shown["check_out_form"] = forms.get("check_out_form") or meeting_forms.CheckOutForm(
            initial={"feeling": mine.departure, "wants_support": mine.wants_support} if mine else None
        )
    return shown


def _facilitator_part(meeting: MeetingAccess, names: dict, rows: dict, forms: dict) -> dict:
    session = meeting.session
    part = {
        "support": [
            {"name": names.get(row.participant_id, _("someone")), "row": row}
            for row in meetings.support_list(session)
            if row.participant_id in names
        ],
        "feelings": [{"name": names[pk], "row": rows.get(pk)} for pk in names],
    }
    if session.opened_at is not None:
        part["attendance_form"] = forms.get("attendance_form") or meeting_forms.AttendanceForm(
            people=list(names.items()),
            initial={"present": [pk for pk, row in rows.items() if row.attended]},
        )
    return part


# --- who attends: staff change the list ----------------------------------------------------------------


def attendee_options(meeting: MeetingAccess) -> list[Participant]:
    """The people staff may tick on a meeting's page: those scheduling would offer (schedule_people), and
    everyone attending now, so that each can be taken off."""
    offered = {p.pk: p for p in schedule_people(meeting.case)}
    for place in meetings.attendees_of(meeting.session):
        offered.setdefault(place.pk, place)
    return [offered[pk] for pk in sorted(offered)]


def attendees_form(meeting: MeetingAccess, data=None) -> AttendeesForm:
    """The form of who attends, each person with their role word, and "at night for them" when part of the
    meeting falls between 22:00 and 07:00 on their own clock."""
    session, program = meeting.session, meeting.case.program
    choices = []
    for place in attendee_options(meeting):
        label = f"{rules.name_of(session, place, staff_by_name=False)} ({program.word_for(place.role)})"
        if clock.at_night(session, place.time_zone):
            label = _("%(person)s, at night for them") % {"person": label}
        choices.append((place.pk, label))
    initial = {"attendees": [p.pk for p in meetings.attendees_of(session)]}
    return AttendeesForm(data, people=choices, initial=initial)


def places_chosen(meeting: MeetingAccess, ids: list[int]) -> list[Participant]:
    chosen = set(ids)
    return [place for place in attendee_options(meeting) if place.pk in chosen]


def attendees_changed_words(change: scheduling.AttendeesChange) -> list[tuple[str, str]]:
    """What the page says after a change of who attends, as (level, words): what changed, and a word of care
    when the time now falls at night for someone attending."""
    if not change.added and not change.removed:
        return [("info", _("Nothing changed: the same people attend."))]
    said = [
        (
            "success",
            _("Who attends has changed. People added or taken off hear by email, if they gave an address."),
        )
    ]
    if change.at_night:
        said.append(
            (
                "warning",
                _(
                    "This time falls at night for someone attending. You may want to choose another time, "
                    "or check with them that it suits them."
                ),
            )
        )
    return said


def conference_form(meeting: MeetingAccess, data=None) -> meeting_forms.ConferenceForm:
    """The conference set-up form, filled with the agenda, speaking order and supporters as they are."""
    session = meeting.session
    choices = people_choices(meeting)
    initial = {"agenda": session.agenda}
    for turn, pk in enumerate(session.speaking_order, start=1):
        initial[f"turn_{pk}"] = turn
    for row in Attendance.objects.filter(session=session, supporter__isnull=False):
        initial[f"supporter_{row.participant_id}"] = row.supporter_id
    supporters = _supporters(meeting, [pk for pk, _name in choices])
    return meeting_forms.ConferenceForm(data, initial=initial, attendees=choices, supporters=supporters)


def conference_page(meeting: MeetingAccess, form, refusal: str = "") -> dict:
    return {
        "case": meeting.case,
        "session": meeting.session,
        "meeting": meeting,
        "form": form,
        "refusal": refusal,
        "is_conference": meeting.session.kind == MeetingKind.CONFERENCE,
    }


def room_page(meeting: MeetingAccess) -> dict:
    """The video room's page: whether this person may enter it here (a room of more than ROOM_SIZE goes to
    the program's Jitsi), what they wait for, and what the browser needs, as JSON for data attributes."""
    session, person = meeting.session, meeting.person
    # The people this person may not see, nor be seen by, are not in their room at all (rules.unseen_by).
    hidden = rules.unseen_by(session, person, both_ways=True)
    attending = rules.attendees(session)
    everyone = [p for p in attending if not (isinstance(p, Participant) and p.pk in hidden)]
    program = session.case.program if session.case_id else session.circle.program
    facilitates = rules.facilitates(session, person)
    large = len(attending) > rules.ROOM_SIZE
    barred = rules.person_missing(session, person)
    missing = rules.signalling_missing(session, person)
    ice = settings.MEND_ICE_SERVERS
    return {
        "session": session,
        "case": session.case,
        "circle": session.circle,
        "large": large,
        "jitsi_url": program.jitsi_url if large else "",
        "may_enter": not large and not barred,
        "why": _waiting_why(facilitates, barred, missing) if missing else "",
        "facilitates": facilitates,
        "me": rules.person_id(person),
        "ws_path": f"/ws/meetings/{session.pk}/",
        "ice_json": json.dumps(ice),
        # With a TURN server, all media goes through it, so nobody learns another person's network address.
        "relay": any(str(url).startswith(("turn:", "turns:")) for s in ice for url in _urls(s)),
        "names_json": json.dumps({rules.person_id(p): rules.name_of(session, p) for p in everyone}),
        "facilitators_json": json.dumps(
            [rules.person_id(p) for p in everyone if rules.facilitates(session, p)]
        ),
        "others": [
            {"id": rules.person_id(p), "name": rules.name_of(session, p)}
            for p in everyone
            if not rules.facilitates(session, p)
        ],
    }


def _waiting_why(facilitates: bool, barred: list[str], missing: list[str]) -> str:
    if facilitates:
        return _("Waiting for: %(items)s.") % {"items": "; ".join(missing)}
    if barred:
        # Only that it is not open to them: never what another person did or did not consent to.
        return _("This meeting is not open to you at the moment. Your facilitator will be in touch.")
    return _("The meeting is not open yet. You will come in as soon as your facilitator opens it.")


def _urls(server: dict) -> list[str]:
    urls = server.get("urls", [])
    return [urls] if isinstance(urls, str) else list(urls)


def schedule_people(case) -> list:
    """The people in a case who could attend a meeting of it (joined, not removed, on their path), with
    their role word. A person on a break, stopped or excluded is not offered (schedule_left_out)."""
    return [place for place, away in _joined_people(case) if not away]


def schedule_left_out(case) -> list:
    """The people not offered for now (on a break, stopped or excluded), for the staff scheduling: shown
    as "not taking part for now", never why."""
    return [place for place, away in _joined_people(case) if away]


def _joined_people(case) -> list[tuple]:
    snap = consent_snapshot(case)
    people = list(case.participants.filter(removed_at__isnull=True, joined_at__isnull=False).order_by("pk"))
    rows = []
    for place in people:
        place.role_word = case.program.word_for(place.role)
        rows.append((place, standing_of(snap, place) in LEFT_OUT))
    return rows
