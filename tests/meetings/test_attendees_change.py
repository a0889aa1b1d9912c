"""Issue 18, item 8: staff change who attends a meeting that is scheduled and has not started. The same
guards as scheduling decide (consent, the person harmed's choices, interpreters); a facilitator stays, someone
besides them, and both sides of a meeting between the sides. A person added is invited and a person taken
off told, calmly, that they no longer need to come (by email, only to people who gave an address); each
change is in the audit chain with no name; a refusal changes nothing."""

from datetime import UTC, timedelta

import icalendar
import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from mend.accounts.models import User
from mend.accounts.site_name import program_site_name_update
from mend.audit.models import AuditEvent
from mend.cases.models import Participant, Role
from mend.core.errors import Conflict, DomainError
from mend.meetings import contexts, scheduling
from mend.meetings import services as meetings
from mend.meetings.access import access_meeting
from mend.meetings.models import Attendance, Meeting, MeetingStatus
from tests.builders import consent, join, prepare_for_encounter
from tests.meetings.meeting_builders import (
    conference_case,
    dialogue,
    facilitator_place,
    prepared_dialogue,
    schedule_conference,
)

pytestmark = pytest.mark.django_db

EMAIL = "matai.m@example.test"
INVITATION = (
    "You are invited to a meeting. The attached calendar file has the time. "
    "Sign in to Mend to see more, or to let your facilitator know if the time does not suit you."
)
NO_LONGER = (
    "You no longer need to come to this meeting. The attached calendar file has its time, and takes it out "
    "of your calendar. Sign in to Mend to see what comes next, or to ask your facilitator anything."
)


def change(cast, session, people):
    return scheduling.meeting_attendees_change(actor=cast.facilitator, session=session, attendees=people)


def attending(session) -> set[int]:
    return set(Meeting.objects.get(pk=session.pk).attendees.values_list("pk", flat=True))


def events(session, code: str):
    return AuditEvent.objects.filter(code=code, target_id=str(session.pk))


def everyone(conference) -> list[Participant]:
    return [conference.facilitator, *conference.harmed, *conference.responsible]


def with_email(place, address: str = EMAIL):
    place.contact_method = address
    place.save(update_fields=["contact_method"])
    return place


def zone_where(session, hour: int) -> str:
    """A time zone on whose clock the meeting starts at `hour` (an Etc/GMT zone: no summer time)."""
    offset = (hour - session.starts_at.astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return f"Etc/GMT{-offset:+d}"


def living_in(places, zone: str) -> None:
    Participant.objects.filter(pk__in=[p.pk for p in places]).update(time_zone=zone)
    for place in places:
        place.refresh_from_db()


@pytest.fixture
def conference(cast):
    """Kauri and Rimu (harmed), Sparrow and Finch (responsible), Puriri (Kauri's supporter), Totara
    (Sparrow's supporter) and Matai (a community member the people harmed allow)."""
    return conference_case(cast)


# --- adding -----------------------------------------------------------------------------------------------


def test_it_adds_a_person_the_people_harmed_allow(cast, conference):
    session = schedule_conference(cast, conference)
    done = change(cast, session, [*everyone(conference), conference.community])
    assert done.added == [conference.community] and done.removed == []
    assert attending(session) == {p.pk for p in everyone(conference)} | {conference.community.pk}
    [event] = events(session, "session.attendee_added")
    assert event.payload == {"attendees": 6}
    assert "Matai" not in str(event.payload) and str(conference.community.pk) not in str(event.payload)
    assert Meeting.objects.get(pk=session.pk).status == MeetingStatus.SCHEDULED


def test_it_refuses_a_person_the_people_harmed_did_not_allow_and_changes_nothing(cast):
    conference = conference_case(cast, community_may_attend=False)
    session = schedule_conference(cast, conference)
    with pytest.raises(Conflict) as refused:
        change(cast, session, [*everyone(conference), conference.community])
    assert refused.value.field == "attendees"
    assert "to allow the" in refused.value.message and refused.value.message.startswith("Waiting for:")
    assert attending(session) == {p.pk for p in everyone(conference)}
    assert not events(session, "session.attendee_added").exists()


def test_a_party_added_comes_with_their_interpreter(cast):
    prepare_for_encounter(cast, mode="direct")
    sage = join(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage", supports=cast.harmed
    )
    consent(sage, "take_part")
    consent(cast.harmed, "interpreter")
    session = dialogue(cast, attendees=[cast.responsible])
    place = facilitator_place(cast.case, cast.facilitator)
    done = change(cast, session, [place, cast.harmed, cast.responsible])
    assert {p.pk for p in done.added} == {cast.harmed.pk, sage.pk}
    assert events(session, "session.interpreter_added").count() == 1
    assert events(session, "session.attendee_added").count() == 1
    # A meeting of the person harmed alone, changed to one of the person responsible: the interpreter who
    # came for her leaves with her.
    alone = dialogue(cast, attendees=[cast.harmed])
    assert sage.pk in attending(alone)
    again = change(cast, alone, [place, cast.responsible])
    assert {p.pk for p in again.removed} == {cast.harmed.pk, sage.pk}
    assert attending(alone) == {place.pk, cast.responsible.pk}


# --- taking off -------------------------------------------------------------------------------------------


def test_it_takes_a_person_off_and_the_others_meet_as_planned(cast, conference):
    session = schedule_conference(cast, conference)
    rimu = conference.harmed[1]
    done = change(cast, session, [p for p in everyone(conference) if p != rimu])
    assert done.removed == [rimu] and done.added == []
    assert rimu.pk not in attending(session)
    assert Meeting.objects.get(pk=session.pk).status == MeetingStatus.SCHEDULED
    [event] = events(session, "session.attendee_removed")
    assert event.payload == {"attendees": 4} and "Rimu" not in str(event.payload)
    assert not events(session, "session.attendee_left").exists()


def test_their_supporter_leaves_with_them_and_nothing_of_theirs_stays(cast, conference):
    kauri, puriri = conference.harmed[0], conference.harmed_supporter
    session = schedule_conference(cast, conference, extra=[puriri])
    meetings.conference_set(
        actor=cast.facilitator,
        session=session,
        agenda="Welcome.",
        speaking_order=[kauri.pk, conference.responsible[0].pk],
        supporters={kauri.pk: puriri.pk},
    )
    done = change(cast, session, [p for p in everyone(conference) if p != kauri] + [puriri])
    assert {p.pk for p in done.removed} == {kauri.pk, puriri.pk}
    session.refresh_from_db()
    assert session.speaking_order == [conference.responsible[0].pk]
    assert not Attendance.objects.filter(session=session, participant__in=[kauri, puriri]).exists()
    assert events(session, "session.attendee_removed").count() == 2


def test_a_facilitator_stays(cast, conference):
    session = schedule_conference(cast, conference)
    with pytest.raises(DomainError) as refused:
        change(cast, session, [*conference.harmed, *conference.responsible])
    assert (refused.value.field, refused.value.message) == (
        "attendees",
        "A facilitator stays at the meeting: keep at least one.",
    )
    assert attending(session) == {p.pk for p in everyone(conference)}


def test_someone_besides_the_facilitators_stays(cast, conference):
    session = schedule_conference(cast, conference)
    with pytest.raises(DomainError, match="besides the facilitators") as refused:
        change(cast, session, [conference.facilitator])
    assert refused.value.field == "attendees"


def test_a_meeting_between_the_sides_keeps_a_person_of_each_side(cast, conference):
    session = schedule_conference(cast, conference)
    with pytest.raises(DomainError, match="keep at least one person from each side") as refused:
        change(cast, session, [conference.facilitator, *conference.harmed])
    assert refused.value.field == "attendees"
    assert not events(session, "session.attendee_removed").exists()


def test_a_refused_change_writes_nothing_of_what_it_asked(
    cast, conference, django_capture_on_commit_callbacks
):
    # Matai added and the facilitator taken off in one go: the second is refused, so the first never happens.
    with_email(conference.community)
    session = schedule_conference(cast, conference)
    audited = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError, match="facilitator"):
        change(cast, session, [*conference.harmed, *conference.responsible, conference.community])
    assert attending(session) == {p.pk for p in everyone(conference)}
    assert AuditEvent.objects.count() == audited and mail.outbox == []


def test_the_same_list_changes_nothing_and_tells_nobody(cast, conference, django_capture_on_commit_callbacks):
    with_email(conference.harmed[0])
    session = schedule_conference(cast, conference)
    audited = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        done = change(cast, session, everyone(conference))
    assert (done.added, done.removed) == ([], [])
    assert AuditEvent.objects.count() == audited and mail.outbox == []


# --- which meetings ---------------------------------------------------------------------------------------


def _cancelled(session):
    Meeting.objects.filter(pk=session.pk).update(status=MeetingStatus.CANCELLED)


def _on_hold(session):
    Meeting.objects.filter(pk=session.pk).update(status=MeetingStatus.ON_HOLD)


def _opened(session):
    Meeting.objects.filter(pk=session.pk).update(opened_at=timezone.now())


def _passed(session):
    Meeting.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(minutes=5))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_cancelled, "was cancelled"),
        (_on_hold, "Bring it back first"),
        (_opened, "already started"),
        (_passed, "time has passed"),
    ],
)
def test_only_a_meeting_ahead_and_going_ahead_can_change(cast, conference, make, words):
    session = schedule_conference(cast, conference)
    make(session)
    with pytest.raises(Conflict, match=words):
        change(cast, session, [*everyone(conference), conference.community])
    assert conference.community.pk not in attending(session)


def test_it_refuses_people_of_another_case(cast, conference):
    session = schedule_conference(cast, conference)
    with pytest.raises(DomainError) as refused:
        change(cast, session, [*everyone(conference), cast.harmed])
    assert (refused.value.field, refused.value.message) == (
        "attendees",
        "Choose who attends from the people in this case.",
    )
    assert attending(session) == {p.pk for p in everyone(conference)}


def test_a_circle_meeting_is_changed_on_the_circle_page(cast, conference):
    from tests.meetings.video_builders import circle_meeting

    session, _core, _volunteer = circle_meeting(cast, opened=False)
    with pytest.raises(DomainError, match="circle"):
        change(cast, session, [conference.facilitator])


# --- the night --------------------------------------------------------------------------------------------


def test_it_says_when_the_new_list_has_someone_at_night(cast, conference):
    session = schedule_conference(cast, conference)
    living_in([*everyone(conference), conference.community], zone_where(session, 12))
    assert change(cast, session, [*everyone(conference), conference.community]).at_night is False
    rimu = conference.harmed[1]
    living_in([rimu], zone_where(session, 23))
    assert change(cast, session, [p for p in everyone(conference) if p != rimu]).at_night is False
    assert change(cast, session, everyone(conference)).at_night is True


# --- emails -----------------------------------------------------------------------------------------------


def _calendar(email) -> tuple[icalendar.Calendar, icalendar.Event]:
    [(name, content, mimetype)] = email.attachments
    assert name == "meeting.ics" and mimetype.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(content.encode() if isinstance(content, str) else content)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def _private_words(conference) -> list[str]:
    names = [p.pseudonym for p in conference.case.participants.all() if p.pseudonym]
    return [conference.case.reference, *names, "Fen Facilitator", "conference", "victim", "offender", "harm"]


def test_a_person_added_gets_the_invitation_by_email(cast, conference, django_capture_on_commit_callbacks):
    with_email(conference.community)
    with_email(conference.harmed[0], "kauri.k@example.test")  # attending already: nothing new for them
    session = schedule_conference(cast, conference)
    with django_capture_on_commit_callbacks(execute=True):
        change(cast, session, [*everyone(conference), conference.community])
    [email] = mail.outbox
    assert email.to == [EMAIL]
    assert (email.subject, email.body) == ("A note from Mend", INVITATION)
    calendar, event = _calendar(email)
    assert str(calendar["METHOD"]) == "REQUEST" and str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("dtstart") == session.starts_at
    assert str(event["ATTENDEE"]) == f"mailto:{EMAIL}"


def test_a_person_taken_off_is_told_calmly_with_a_calendar_cancel(
    cast, conference, django_capture_on_commit_callbacks
):
    rimu = with_email(conference.harmed[1])
    session = schedule_conference(cast, conference)
    with django_capture_on_commit_callbacks(execute=True):
        change(cast, session, [p for p in everyone(conference) if p != rimu])
    [email] = mail.outbox
    assert email.to == [EMAIL]
    assert (email.subject, email.body) == ("A note from Mend", NO_LONGER)
    calendar, event = _calendar(email)
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"meeting-{session.pk}@mend"
    text = email.body + email.subject + str(event)
    for words in _private_words(conference):
        assert words not in text, words
    # The meeting itself goes ahead for the others.
    assert Meeting.objects.get(pk=session.pk).status == MeetingStatus.SCHEDULED


def test_the_emails_are_in_each_persons_language(cast, conference, django_capture_on_commit_callbacks):
    rimu = with_email(conference.harmed[1])
    User.objects.filter(pk=rimu.user_id).update(language="es")
    rimu.refresh_from_db()
    session = schedule_conference(cast, conference)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        change(cast, session, [p for p in everyone(conference) if p != rimu])
    [email] = mail.outbox
    _calendar_file, event = _calendar(email)
    assert event["SUMMARY"].params["LANGUAGE"] == "es"
    with translation.override("es"):
        assert email.subject == translation.gettext("A note from %(site_name)s") % {"site_name": "Mend"}
        assert email.subject != "A note from Mend"


def test_the_emails_go_by_the_programs_site_name(cast, conference, django_capture_on_commit_callbacks):
    # An inbox can be watched: a program that chose a neutral name is the only name in the email.
    program_site_name_update(
        actor=cast.admin, program=conference.case.program, site_name="Northside Wellbeing"
    )
    rimu = with_email(conference.harmed[1])
    with_email(conference.community, "matai.m2@example.test")
    session = schedule_conference(cast, conference)
    with django_capture_on_commit_callbacks(execute=True):
        change(cast, session, [p for p in everyone(conference) if p != rimu] + [conference.community])
    assert len(mail.outbox) == 2
    for email in mail.outbox:
        assert email.subject == "A note from Northside Wellbeing"
        assert email.from_email.startswith('"Northside Wellbeing"') or email.from_email.startswith(
            "Northside Wellbeing <"
        )
        assert "Mend" not in email.subject + email.from_email
    [taken_off] = [email for email in mail.outbox if email.to == [EMAIL]]
    assert "Sign in to Northside Wellbeing to see what comes next" in taken_off.body
    assert "Mend" not in taken_off.body


def test_nobody_without_an_email_address_gets_one_nor_after_a_refusal(
    cast, conference, django_capture_on_commit_callbacks
):
    session = schedule_conference(cast, conference)
    with django_capture_on_commit_callbacks(execute=True):
        change(cast, session, [*everyone(conference), conference.community])
    assert mail.outbox == []
    with_email(conference.harmed[1])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError):
        change(cast, session, [conference.facilitator, conference.harmed[0]])
    assert mail.outbox == []


# --- the page ---------------------------------------------------------------------------------------------


def url_of(session) -> str:
    return f"/cases/{session.case.reference}/sessions/{session.pk}/attendees/"


def page_of(session) -> str:
    return f"/cases/{session.case.reference}/sessions/{session.pk}/"


def ids(*places) -> dict:
    return {"attendees": [str(p.pk) for p in places]}


def test_staff_running_the_case_see_the_form_and_attendees_do_not(cast):
    session = prepared_dialogue(cast)
    for who in ("facilitator", "coordinator", "admin"):
        assert b'data-testid="attendees-form"' in cast.client(who).get(page_of(session)).content, who
    assert b'data-testid="attendees-form"' not in cast.client("harmed").get(page_of(session)).content


def test_the_form_offers_the_people_who_could_attend_with_those_attending_ticked(cast, conference):
    session = schedule_conference(cast, conference)
    meeting = access_meeting(cast.facilitator, session.pk, reference=conference.case.reference)
    form = contexts.attendees_form(meeting)
    offered = {pk for pk, _label in form.fields["attendees"].choices}
    assert {p.pk for p in everyone(conference)} | {conference.community.pk} <= offered
    assert set(form.initial["attendees"]) == {p.pk for p in everyone(conference)}


def test_changing_who_attends_from_the_page(cast, conference):
    session = schedule_conference(cast, conference)
    client = cast.client("facilitator")
    response = client.post(url_of(session), ids(*everyone(conference), conference.community))
    assert response.status_code == 302 and response["Location"] == page_of(session)
    assert conference.community.pk in attending(session)
    page = client.get(page_of(session)).content.decode()
    assert "Who attends has changed." in page


def test_the_page_warns_when_the_new_list_has_someone_at_night(cast, conference):
    session = schedule_conference(cast, conference)
    living_in(everyone(conference), zone_where(session, 12))
    living_in([conference.community], zone_where(session, 2))
    client = cast.client("facilitator")
    client.post(url_of(session), ids(*everyone(conference), conference.community))
    page = client.get(page_of(session)).content.decode()
    assert "This time falls at night for someone attending." in page


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({}, "Choose who attends."),
        ({"attendees": ["nine"]}, "Choose people from the list."),
        ({"attendees": ["999999"]}, "Choose people from the list."),
    ],
)
def test_a_form_that_is_not_right_is_answered_on_its_field(cast, conference, form, words):
    session = schedule_conference(cast, conference)
    response = cast.client("facilitator").post(url_of(session), form)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert b'id="id_attendees_error"' in response.content or b"id_attendees" in response.content
    assert attending(session) == {p.pk for p in everyone(conference)}


def test_a_person_of_another_case_is_answered_on_the_field_and_the_form_shown_again(cast, conference):
    session = schedule_conference(cast, conference)
    response = cast.client("facilitator").post(url_of(session), ids(*everyone(conference), cast.harmed))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose people from the list." in page and 'data-testid="attendees-form"' in page
    assert 'id="id_attendees_error"' in page or 'aria-invalid="true"' in page
    assert attending(session) == {p.pk for p in everyone(conference)}
    assert not events(session, "session.attendee_added").exists()


def test_the_form_says_who_the_time_falls_at_night_for(cast, conference):
    session = schedule_conference(cast, conference)
    living_in(everyone(conference), zone_where(session, 12))
    living_in([conference.community], zone_where(session, 23))
    meeting = access_meeting(cast.facilitator, session.pk, reference=conference.case.reference)
    labels = dict(contexts.attendees_form(meeting).fields["attendees"].choices)
    assert labels[conference.community.pk].endswith(", at night for them")
    assert not any(labels[p.pk].endswith("at night for them") for p in everyone(conference))


def test_saving_the_same_list_says_nothing_changed(cast, conference):
    session = schedule_conference(cast, conference)
    client = cast.client("facilitator")
    response = client.post(url_of(session), ids(*everyone(conference)))
    assert response.status_code == 302
    assert "Nothing changed: the same people attend." in client.get(page_of(session)).content.decode()


def test_a_refusal_of_the_guards_is_answered_on_the_field(cast):
    conference = conference_case(cast, community_may_attend=False)
    session = schedule_conference(cast, conference)
    response = cast.client("facilitator").post(
        url_of(session), ids(*everyone(conference), conference.community)
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Waiting for:" in page and 'id="id_attendees_error"' in page
    assert conference.community.pk not in attending(session)


def test_a_cancelled_meeting_says_so_and_shows_no_form(cast, conference):
    session = schedule_conference(cast, conference)
    scheduling.meeting_cancel(actor=cast.facilitator, session=session)
    client = cast.client("facilitator")
    assert b'data-testid="attendees-form"' not in client.get(page_of(session)).content
    response = client.post(url_of(session), ids(*everyone(conference), conference.community))
    assert response.status_code == 409
    assert "This meeting was cancelled, so who attends it cannot change." in response.content.decode()


def test_only_staff_running_the_case_may_change_who_attends(cast):
    session = prepared_dialogue(cast)
    place = facilitator_place(cast.case, cast.facilitator)
    for who in ("harmed", "responsible", "supporter", "outsider", "volunteer", "other_program_facilitator"):
        response = cast.client(who).post(url_of(session), ids(place, cast.harmed))
        assert response.status_code == 404, who
    assert attending(session) == {place.pk, cast.harmed.pk, cast.responsible.pk}


def _page_queries(client, session) -> int:
    client.get(page_of(session))  # the first call may fill per-process caches; the measured one is steady
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page_of(session))
    assert b'data-testid="attendees-form"' in response.content
    return len(captured)


def test_the_page_with_the_form_reads_the_same_number_of_queries_however_many_attend(cast, conference):
    session = schedule_conference(cast, conference)
    client = cast.client("facilitator")
    few = _page_queries(client, session)
    more = [conference.community, conference.harmed_supporter, conference.responsible_supporter]
    assert len(change(cast, session, [*everyone(conference), *more]).added) == 3
    assert _page_queries(client, session) == few
