"""Invitations: the iCalendar file parses, starts at the right moment in UTC and on the attendee's own clock,
and names nothing of the case; emails go only to people who gave an email address, in neutral words."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.core import mail

from mend.accounts.models import Program
from mend.cases.models import Participant
from mend.core.errors import Conflict
from mend.meetings import ics
from mend.meetings import services as meetings
from mend.meetings.models import Meeting, MeetingStatus
from tests.builders import signed_in
from tests.meetings.meeting_builders import facilitator_place, prepared_dialogue

EMAIL = "wren.w@example.test"
SUBJECT = "A note from Mend"
BODY = (
    "You are invited to a meeting. The attached calendar file has the time. "
    "Sign in to Mend to see more, or to let your facilitator know if the time does not suit you."
)


def _event(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def _private_words(cast) -> list[str]:
    people = [p.pseudonym for p in cast.case.participants.all() if p.pseudonym]
    return [
        cast.case.reference, *people, "Fen Facilitator", "Riverbend", "Restorative", "image", "abuse",
        "dialogue", "Dialogue", "conference", "victim", "offender", "harm",
    ]  # fmt: skip


def _meeting(cast, starts_at: datetime, zone: str = "Europe/Madrid") -> Meeting:
    session = Meeting.objects.create(
        case=cast.case,
        kind="conference",
        format="video",
        starts_at=starts_at,
        time_zone=zone,
        duration_minutes=90,
        created_by=cast.facilitator,
    )
    session.attendees.set([facilitator_place(cast.case, cast.facilitator), cast.harmed, cast.responsible])
    return session


@pytest.mark.parametrize(
    ("zone", "starts_at", "local"),
    [
        ("Pacific/Auckland", datetime(2027, 4, 2, 21, 0, tzinfo=UTC), "Saturday 3 April 2027, 10:00"),
        ("Pacific/Auckland", datetime(2027, 4, 4, 22, 0, tzinfo=UTC), "Monday 5 April 2027, 10:00"),
        ("Europe/Madrid", datetime(2027, 3, 27, 9, 0, tzinfo=UTC), "Saturday 27 March 2027, 10:00"),
        ("Europe/Madrid", datetime(2027, 3, 28, 8, 0, tzinfo=UTC), "Sunday 28 March 2027, 10:00"),
        ("America/New_York", datetime(2027, 3, 13, 14, 0, tzinfo=UTC), "Saturday 13 March 2027, 09:00"),
        ("America/New_York", datetime(2027, 3, 15, 13, 0, tzinfo=UTC), "Monday 15 March 2027, 09:00"),
    ],
)
def test_it_starts_at_the_right_moment_in_utc_and_on_the_attendee_clock(cast, zone, starts_at, local):
    Participant.objects.filter(pk=cast.harmed.pk).update(time_zone=zone)
    cast.harmed.refresh_from_db()
    session = _meeting(cast, starts_at)
    calendar, event = _event(ics.meeting_ics(session, cast.harmed))
    start = event.decoded("dtstart")
    assert start == starts_at and start.utcoffset() == timedelta(0)
    assert event["DTSTART"].to_ical() == starts_at.strftime("%Y%m%dT%H%M%SZ").encode()
    assert event.decoded("dtend") == starts_at + timedelta(minutes=90)
    assert f"Your time: {local} ({zone})." in str(event["DESCRIPTION"])


def test_it_is_a_request_with_one_stable_uid_for_everyone(cast):
    session = _meeting(cast, datetime(2027, 3, 28, 8, 0, tzinfo=UTC))
    calendar, event = _event(ics.meeting_ics(session, cast.harmed))
    _other_calendar, other = _event(ics.meeting_ics(session, cast.responsible))
    assert str(calendar["METHOD"]) == "REQUEST" and str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == ics.PRODID
    assert str(event["UID"]) == str(other["UID"]) == f"meeting-{session.pk}@mend"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert "ATTENDEE" not in event, "no address was given"


def test_its_words_are_neutral(cast):
    session = _meeting(cast, datetime(2027, 3, 28, 8, 0, tzinfo=UTC))
    data = ics.meeting_ics(session, cast.harmed)
    _calendar, event = _event(data)
    assert str(event["SUMMARY"]) == "Meeting (Mend)"
    text = data.decode()
    for words in _private_words(cast):
        assert words not in text, words


def test_it_goes_by_the_programs_site_name(cast):
    """A calendar can be seen by others: a program that chose a neutral name is called by it, and "Mend"
    is nowhere in the file (the product id aside, which no calendar shows)."""
    Program.objects.filter(pk=cast.program.pk).update(site_name="Northside Wellbeing")
    session = _meeting(cast, datetime(2027, 3, 28, 8, 0, tzinfo=UTC))
    session.refresh_from_db()
    data = ics.meeting_ics(session, cast.harmed)
    _calendar, event = _event(data)
    assert str(event["SUMMARY"]) == "Meeting (Northside Wellbeing)"
    assert str(event["LOCATION"]) == "By video, in Northside Wellbeing"
    assert "Sign in to Northside Wellbeing" in str(event["DESCRIPTION"])
    assert event["ORGANIZER"].params["cn"] == "Northside Wellbeing"
    assert "Mend" not in data.decode().replace(ics.PRODID, "")


def test_a_cancelled_meeting_file_cancels_it(cast):
    session = _meeting(cast, datetime(2027, 3, 28, 8, 0, tzinfo=UTC))
    session.status = MeetingStatus.CANCELLED
    calendar, event = _event(ics.meeting_ics(session, cast.harmed))
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1


def test_each_attendee_downloads_their_own_invitation(cast):
    Participant.objects.filter(pk=cast.responsible.pk).update(time_zone="America/New_York")
    session = _meeting(cast, datetime(2027, 3, 15, 13, 0, tzinfo=UTC))
    url = f"/cases/{cast.case.reference}/sessions/{session.pk}/invitation.ics"
    with time_machine.travel(datetime(2027, 3, 1, tzinfo=UTC), tick=False):
        response = signed_in(cast.responsible.user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="meeting.ics"'
        _calendar, event = _event(response.content)
        assert "Monday 15 March 2027, 09:00 (America/New_York)" in str(event["DESCRIPTION"])
        for who in ("supporter", "outsider", "coordinator", "other_program_facilitator"):
            assert cast.client(who).get(url).status_code == 404, who


# --- emails -----------------------------------------------------------------------------------------------


def _give(place, contact: str) -> None:
    place.contact_method = contact
    place.save(update_fields=["contact_method"])


def test_invitations_go_by_email_only_to_email_addresses(cast, django_capture_on_commit_callbacks):
    _give(cast.harmed, EMAIL)
    _give(cast.responsible, "text me on 021 555 0199")
    session = prepared_dialogue(cast)
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings.invitations_send(actor=cast.facilitator, session=session) == 1
    [email] = mail.outbox
    assert email.to == [EMAIL]
    assert (email.subject, email.body) == (SUBJECT, BODY)
    [(name, content, mimetype)] = email.attachments
    assert name == "meeting.ics" and mimetype.startswith("text/calendar")
    _calendar, event = _event(content.encode() if isinstance(content, str) else content)
    assert event.decoded("dtstart") == session.starts_at
    assert str(event["ATTENDEE"]) == f"mailto:{EMAIL}"
    for words in _private_words(cast):
        assert words not in email.subject and words not in email.body, words


def test_nobody_with_no_email_address_gets_an_email(cast, django_capture_on_commit_callbacks):
    session = prepared_dialogue(cast)
    with django_capture_on_commit_callbacks(execute=True):
        assert meetings.invitations_send(actor=cast.facilitator, session=session) == 0
    assert mail.outbox == []


def test_no_invitations_for_a_meeting_that_is_not_going_ahead(cast, django_capture_on_commit_callbacks):
    _give(cast.harmed, EMAIL)
    session = prepared_dialogue(cast)
    session.status = MeetingStatus.ON_HOLD
    session.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Conflict, match="still ahead"):
        meetings.invitations_send(actor=cast.facilitator, session=session)
    assert mail.outbox == []


def test_sending_invitations_from_the_page(cast, django_capture_on_commit_callbacks):
    _give(cast.harmed, EMAIL)
    session = prepared_dialogue(cast)
    url = f"/cases/{cast.case.reference}/sessions/{session.pk}/invitations/"
    with django_capture_on_commit_callbacks(execute=True):
        assert cast.client("facilitator").post(url).status_code == 302
    assert len(mail.outbox) == 1
    for who in ("harmed", "responsible", "supporter", "outsider", "volunteer"):
        assert cast.client(who).post(url).status_code == 404, who
    assert len(mail.outbox) == 1
