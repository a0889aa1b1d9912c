"""A meeting on the day: check-in and check-out, who may need support, opening only while the guards hold,
attendance, ending, the page each person sees, and the reminders sent through the job queue."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mend.cases.models import Notice
from mend.cases.notices import text_of
from mend.circles.models import StaffAlert
from mend.consent import services as consent_services
from mend.core.errors import Conflict, DomainError
from mend.meetings import services as meetings
from mend.meetings import tasks as meeting_tasks
from mend.meetings.models import Attendance, Feeling, MeetingStatus
from tests.builders import consent
from tests.meetings.meeting_builders import facilitator_place, prepared_dialogue

EMAIL = "wren.w@example.test"


def travel(moment):
    return time_machine.travel(moment, tick=False)


def page_of(session) -> str:
    return f"/cases/{session.case.reference}/sessions/{session.pk}/"


def check_in(place, session, feeling="steady", wants_support=False):
    return meetings.checkin_record(
        actor=place.user, session=session, feeling=feeling, wants_support=wants_support
    )


def opened(cast, session):
    with travel(session.starts_at):
        return meetings.meeting_open(actor=cast.facilitator, session=session)


# --- attendance rows --------------------------------------------------------------------------------------


def test_it_makes_one_attendance_row_per_attendee_and_keeps_them(cast):
    session = prepared_dialogue(cast)
    first = meetings.attendance_prepare(session=session)
    assert {row.participant_id for row in first} == set(session.attendees.values_list("pk", flat=True))
    Attendance.objects.filter(pk=first[0].pk).update(arrival=Feeling.OKAY)
    again = meetings.attendance_prepare(session=session)
    assert [row.pk for row in again] == [row.pk for row in first]
    assert Attendance.objects.get(pk=first[0].pk).arrival == Feeling.OKAY


# --- check-in and check-out -------------------------------------------------------------------------------


def test_check_in_opens_the_day_before_and_closes_at_the_end(cast):
    session = prepared_dialogue(cast)
    with (
        travel(session.starts_at - timedelta(days=1, minutes=1)),
        pytest.raises(Conflict, match="opens the day"),
    ):
        check_in(cast.harmed, session)
    with travel(session.starts_at - timedelta(hours=3)):
        row = check_in(cast.harmed, session, feeling="okay")
    assert row.arrival == Feeling.OKAY and row.arrival_at == session.starts_at - timedelta(hours=3)
    with travel(session.starts_at + timedelta(minutes=89)):
        assert check_in(cast.harmed, session, feeling="unsettled").arrival == Feeling.UNSETTLED, (
            "it can change"
        )
    with travel(session.starts_at + timedelta(minutes=90)), pytest.raises(Conflict, match="over"):
        check_in(cast.harmed, session)


def test_struggling_tells_the_facilitators_and_no_one_else(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(hours=1)):
        check_in(cast.harmed, session, feeling="struggling")
    [alert] = StaffAlert.objects.all()
    assert alert.recipient == cast.facilitator
    assert alert.kind == StaffAlert.Kind.NEEDS_SUPPORT and alert.session == session and alert.read_at is None


def test_asking_for_support_tells_the_facilitators_again_after_they_read_it(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(hours=1)):
        check_in(cast.responsible, session, feeling="okay", wants_support=True)
        StaffAlert.objects.update(read_at=timezone.now())
        check_in(cast.harmed, session, feeling="steady", wants_support=True)
    [alert] = StaffAlert.objects.all()
    assert alert.read_at is None, "one alert per meeting, brought back to unread"


def test_a_steady_check_in_tells_nobody(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(hours=1)):
        check_in(cast.harmed, session, feeling="steady")
    assert not StaffAlert.objects.exists()


def test_only_people_attending_check_in_and_with_a_feeling_from_the_list(cast):
    session = prepared_dialogue(cast)
    consent(cast.supporter, "take_part")
    with travel(session.starts_at - timedelta(hours=1)):
        with pytest.raises(DomainError, match="Only the people attending"):
            check_in(cast.supporter, session)
        with pytest.raises(DomainError, match="Choose the words closest") as refused:
            check_in(cast.harmed, session, feeling="furious")
    assert refused.value.field == "feeling"


def test_nobody_checks_in_to_a_meeting_on_hold_or_cancelled(cast):
    session = prepared_dialogue(cast)
    for status in (MeetingStatus.ON_HOLD, MeetingStatus.CANCELLED):
        session.status = status
        session.save(update_fields=["status"])
        with travel(session.starts_at - timedelta(hours=1)), pytest.raises(Conflict, match="not going ahead"):
            check_in(cast.harmed, session)


def test_check_out_waits_for_the_meeting_to_open_and_lasts_a_week(cast):
    session = prepared_dialogue(cast)
    checkout = meetings.checkout_record
    with travel(session.starts_at + timedelta(minutes=5)), pytest.raises(Conflict, match="once the meeting"):
        checkout(actor=cast.harmed.user, session=session, feeling="okay", wants_support=False)
    opened(cast, session)
    with travel(session.starts_at + timedelta(minutes=100)):
        row = checkout(actor=cast.harmed.user, session=session, feeling="struggling", wants_support=False)
    assert row.departure == Feeling.STRUGGLING
    assert StaffAlert.objects.filter(recipient=cast.facilitator, session=session).exists()
    with travel(session.starts_at + timedelta(days=8, minutes=91)), pytest.raises(Conflict, match="closed"):
        checkout(actor=cast.harmed.user, session=session, feeling="okay", wants_support=False)


# --- opening, attendance, ending --------------------------------------------------------------------------


def test_a_facilitator_opens_the_meeting_from_15_minutes_before_until_its_end(cast):
    session = prepared_dialogue(cast)
    with (
        travel(session.starts_at - timedelta(minutes=16)),
        pytest.raises(Conflict, match="15 minutes before"),
    ):
        meetings.meeting_open(actor=cast.facilitator, session=session)
    with travel(session.starts_at + timedelta(minutes=90)), pytest.raises(Conflict, match="time has passed"):
        meetings.meeting_open(actor=cast.facilitator, session=session)
    with travel(session.starts_at - timedelta(minutes=15)):
        meetings.meeting_open(actor=cast.facilitator, session=session)
        session.refresh_from_db()
        assert session.opened_at == timezone.now()
        with pytest.raises(Conflict, match="already open"):
            meetings.meeting_open(actor=cast.facilitator, session=session)
    assert Attendance.objects.filter(session=session).count() == 3


def test_the_meeting_does_not_open_while_a_guard_fails_and_says_what_is_missing(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at + timedelta(minutes=5)):
        # The meeting has begun, so the break does not put it on hold; opening it must still be refused.
        consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
        session.refresh_from_db()
        assert session.status == MeetingStatus.SCHEDULED
        with pytest.raises(Conflict) as refused:
            meetings.meeting_open(actor=cast.facilitator, session=session)
    assert "The meeting cannot open yet. Waiting for:" in refused.value.message
    assert "the person harmed (Wren) to come back from their break" in refused.value.message
    session.refresh_from_db()
    assert session.opened_at is None


def test_a_withdrawn_consent_keeps_the_meeting_closed(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at + timedelta(minutes=5)):
        consent_services.consent_withdraw(
            actor=cast.responsible.user, place=cast.responsible, scope="direct_meeting"
        )
        with pytest.raises(
            Conflict, match="consent of the person responsible \\(Kestrel\\) to meet directly"
        ):
            meetings.meeting_open(actor=cast.facilitator, session=session)


def test_only_a_facilitator_attending_opens_it(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at):
        for user in (cast.harmed.user, cast.coordinator):
            with pytest.raises(DomainError, match="Only a facilitator attending"):
                meetings.meeting_open(actor=user, session=session)


def test_a_meeting_on_hold_or_cancelled_does_not_open(cast):
    session = prepared_dialogue(cast)
    for status, words in ((MeetingStatus.ON_HOLD, "on hold"), (MeetingStatus.CANCELLED, "cancelled")):
        session.status = status
        session.save(update_fields=["status"])
        with travel(session.starts_at), pytest.raises(Conflict, match=words):
            meetings.meeting_open(actor=cast.facilitator, session=session)


def test_the_facilitator_records_who_was_there(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at), pytest.raises(Conflict, match="Open the meeting first"):
        meetings.attendance_record(actor=cast.facilitator, session=session, present=[cast.harmed.pk])
    opened(cast, session)
    me = facilitator_place(cast.case, cast.facilitator)
    meetings.attendance_record(actor=cast.facilitator, session=session, present=[cast.harmed.pk, me.pk])
    there = dict(Attendance.objects.filter(session=session).values_list("participant_id", "attended"))
    assert there == {cast.harmed.pk: True, me.pk: True, cast.responsible.pk: False}
    with pytest.raises(DomainError, match="attending this meeting") as refused:
        meetings.attendance_record(actor=cast.facilitator, session=session, present=[cast.supporter.pk])
    assert refused.value.field == "present"
    for bad in ("12", [None], [{"id": 1}]):
        with pytest.raises(DomainError):
            meetings.attendance_record(actor=cast.facilitator, session=session, present=bad)
    with pytest.raises(DomainError, match="Only a facilitator attending"):
        meetings.attendance_record(actor=cast.harmed.user, session=session, present=[])


def test_the_facilitator_ends_the_meeting_once(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at), pytest.raises(Conflict, match="not been opened"):
        meetings.meeting_end(actor=cast.facilitator, session=session)
    opened(cast, session)
    with travel(session.starts_at + timedelta(minutes=80)):
        meetings.meeting_end(actor=cast.facilitator, session=session)
        session.refresh_from_db()
        assert session.ended_at == timezone.now()
        with pytest.raises(Conflict, match="already ended"):
            meetings.meeting_end(actor=cast.facilitator, session=session)
        with pytest.raises(Conflict, match="ended"):
            meetings.meeting_open(actor=cast.facilitator, session=session)


def test_every_change_on_the_day_is_in_the_audit_chain(cast):
    from mend.audit.models import AuditEvent

    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(minutes=10)):
        check_in(cast.harmed, session, feeling="struggling", wants_support=True)
    opened(cast, session)
    meetings.attendance_record(actor=cast.facilitator, session=session, present=[cast.harmed.pk])
    with travel(session.starts_at + timedelta(minutes=60)):
        meetings.meeting_end(actor=cast.facilitator, session=session)
    codes = list(AuditEvent.objects.filter(case=cast.case).order_by("seq").values_list("code", flat=True))
    for code in ("attendance.checked_in", "session.opened", "attendance.recorded", "session.ended"):
        assert code in codes
    payloads = AuditEvent.objects.filter(code="attendance.checked_in").values_list("payload", flat=True)
    assert all("struggling" not in str(p) for p in payloads), "how someone feels is not audit data"


def test_a_meetings_events_keep_the_target_name_they_were_first_recorded_under(cast):
    """The class was renamed (circles.Session -> meetings.Meeting); one meeting's history in the chain must
    not split across two target names, old events "session:<id>" and new ones "meeting:<id>"."""
    from mend.audit.models import AuditEvent

    session = prepared_dialogue(cast)
    opened(cast, session)
    targets = set(
        AuditEvent.objects.filter(code__startswith="session.").values_list("target_type", "target_id")
    )
    assert targets == {("session", str(session.pk))}


# --- the page ---------------------------------------------------------------------------------------------


def test_outsiders_and_people_not_attending_get_the_same_404(cast):
    session = prepared_dialogue(cast)
    for who in (
        "outsider",
        "supporter",
        "other_facilitator_same_program",
        "other_program_facilitator",
        "volunteer",
    ):
        assert cast.client(who).get(page_of(session)).status_code == 404, who
    missing = f"/cases/{cast.case.reference}/sessions/{session.pk + 1000}/"
    assert cast.client("facilitator").get(missing).status_code == 404
    for who in ("facilitator", "coordinator", "admin", "harmed", "responsible"):
        assert cast.client(who).get(page_of(session)).status_code == 200, who


def test_a_video_meeting_links_to_its_room(cast):
    session = prepared_dialogue(cast)
    text = cast.client("harmed").get(page_of(session)).content.decode()
    assert f'href="/meetings/{session.pk}/"' in text
    in_person = prepared_dialogue_in_person(cast)
    assert "/meetings/" not in cast.client("harmed").get(page_of(in_person)).content.decode()


def prepared_dialogue_in_person(cast):
    from tests.meetings.meeting_builders import dialogue

    return dialogue(cast, format="in_person", starts_at=timezone.now() + timedelta(days=5))


def test_checking_in_through_the_page(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(minutes=30)):
        client = cast.client("harmed")  # signed in on the day: a session left for two days times out
        page = client.get(page_of(session)).content.decode()
        assert "How are you arriving today?" in page and "I would like support" in page
        sent = client.post(page_of(session) + "check-in/", {"feeling": "unsettled", "wants_support": "on"})
        assert sent.status_code == 302 and sent["Location"] == page_of(session)
        row = Attendance.objects.get(session=session, participant=cast.harmed)
        assert (row.arrival, row.wants_support) == (Feeling.UNSETTLED, True)
        empty = client.post(page_of(session) + "check-in/", {})
        assert empty.status_code == 400 and "This field is required" in empty.content.decode()
        assert (
            cast.client("supporter").post(page_of(session) + "check-in/", {"feeling": "okay"}).status_code
            == 404
        )
    with travel(session.starts_at - timedelta(days=2)):
        client = cast.client("harmed")
        early = client.post(page_of(session) + "check-in/", {"feeling": "okay"})
        assert early.status_code == 409 and "opens the day before" in early.content.decode()


def test_the_facilitator_sees_who_may_need_support_and_the_parties_do_not(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(minutes=30)):
        check_in(cast.harmed, session, feeling="struggling")
        check_in(cast.responsible, session, feeling="steady", wants_support=True)
        facilitator = cast.client("facilitator").get(page_of(session)).content.decode()
        responsible = cast.client("responsible").get(page_of(session)).content.decode()
        coordinator = cast.client("coordinator").get(page_of(session)).content.decode()
    assert '<ul data-testid="support">' in facilitator
    assert "Wren:\n    arrived struggling" in facilitator
    assert "Kestrel:" in facilitator and "would like support" in facilitator
    for other in (responsible, coordinator):
        assert 'data-testid="support"' not in other and "arrived struggling" not in other
        assert "Wren:" not in other
    assert "Struggling" not in coordinator, "how people arrive is for the facilitators of the meeting"


def test_opening_through_the_page_shows_what_is_missing(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at + timedelta(minutes=5)):
        client = cast.client("facilitator")
        assert 'data-testid="open"' in client.get(page_of(session)).content.decode()
        consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
        refused = client.post(page_of(session) + "open/")
        assert refused.status_code == 409
        assert "to come back from their break" in refused.content.decode()
        assert cast.client("harmed").post(page_of(session) + "open/").status_code == 404
        assert cast.client("coordinator").post(page_of(session) + "open/").status_code == 404


def test_opening_recording_and_ending_through_the_page(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at):
        client = cast.client("facilitator")
        assert client.post(page_of(session) + "open/").status_code == 302
        page = client.get(page_of(session)).content.decode()
        assert 'data-testid="end"' in page and "Who was there" in page
        assert client.post(page_of(session) + "attendance/", {"present": [cast.harmed.pk]}).status_code == 302
        junk = client.post(page_of(session) + "attendance/", {"present": ["nobody"]})
        assert junk.status_code == 400
        assert client.post(page_of(session) + "end/").status_code == 302
        assert client.post(page_of(session) + "end/").status_code == 409
    assert Attendance.objects.get(session=session, participant=cast.harmed).attended is True


# --- reminders --------------------------------------------------------------------------------------------


def give_email(place, address=EMAIL):
    place.contact_method = address
    place.save(update_fields=["contact_method"])


def waiting_reminders():
    rows = DBTaskResult.objects.filter(task_path=meeting_tasks.meeting_remind.module_path, status="READY")
    return sorted((r.args_kwargs["kwargs"]["before"], r.run_after) for r in rows)


def test_reminders_are_booked_a_day_and_an_hour_before(cast):
    session = prepared_dialogue(cast, starts_at=timezone.now() + timedelta(days=3))
    with travel(session.starts_at - timedelta(days=2)):
        assert meeting_tasks.reminders_book(now=timezone.now()) == 0, "too far ahead yet"
    with travel(session.starts_at - timedelta(hours=24, minutes=50)):
        assert meeting_tasks.reminders_book(now=timezone.now()) == 2
        assert meeting_tasks.reminders_book(now=timezone.now()) == 0, "booked once"
    assert waiting_reminders() == [
        ("day", session.starts_at - timedelta(days=1)),
        ("hour", session.starts_at - timedelta(hours=1)),
    ]


def test_a_meeting_scheduled_less_than_a_day_ahead_gets_only_the_hour_reminder(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(hours=5)):
        assert meeting_tasks.reminders_book(now=timezone.now()) == 1
    assert [before for before, _at in waiting_reminders()] == ["hour"]


def test_the_reminder_is_neutral_and_goes_only_to_email_addresses(cast):
    give_email(cast.harmed)
    give_email(cast.responsible, "call me on 021 555 0199")
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(hours=1)):
        sent = meeting_tasks.meeting_remind.call(
            session_id=session.pk, starts_at=session.starts_at.isoformat(), before="hour"
        )
    assert sent == 1
    [email] = mail.outbox
    assert email.to == [EMAIL]
    assert email.subject == "A note from Mend"
    assert email.body == "You have a meeting in about an hour. Sign in to Mend when you are ready."
    for words in (cast.case.reference, "Wren", "Kestrel", "Riverbend", "Fen", "dialogue", "Dialogue"):
        assert words not in email.subject + email.body
    # Everyone taking part also finds a neutral notice in Mend, whether or not they gave an email address.
    reminded = Notice.objects.filter(kind=Notice.Kind.MEETING_REMINDER)
    assert set(reminded.values_list("recipient_id", flat=True)) == {cast.harmed.pk, cast.responsible.pk}
    assert text_of(reminded.first()) == "You have a meeting coming up. Have a look when you are ready."


def test_no_reminder_for_a_meeting_that_stopped_moved_or_began(cast):
    give_email(cast.harmed)
    session = prepared_dialogue(cast)
    when = session.starts_at.isoformat()

    def remind():
        with travel(session.starts_at - timedelta(hours=1)):
            return meeting_tasks.meeting_remind.call(session_id=session.pk, starts_at=when, before="hour")

    session.status = MeetingStatus.ON_HOLD
    session.save(update_fields=["status"])
    assert remind() == 0
    session.status = MeetingStatus.SCHEDULED
    session.starts_at += timedelta(hours=2)
    session.save(update_fields=["status", "starts_at"])
    assert remind() == 0, "booked for another time"
    session.starts_at -= timedelta(hours=2)
    session.opened_at = session.starts_at - timedelta(hours=2)
    session.save(update_fields=["starts_at", "opened_at"])
    assert remind() == 0
    assert mail.outbox == []


def test_a_person_on_a_break_is_not_reminded(cast):
    give_email(cast.harmed)
    session = prepared_dialogue(cast)
    with travel(session.starts_at - timedelta(minutes=61)):
        meetings.attendance_prepare(session=session)
        type(cast.harmed).objects.filter(pk=cast.harmed.pk).update(paused_at=timezone.now())
        sent = meeting_tasks.meeting_remind.call(
            session_id=session.pk, starts_at=session.starts_at.isoformat(), before="hour"
        )
    assert sent == 0 and mail.outbox == []


def test_the_booking_run_books_itself_again(cast):
    with travel(timezone.now()):
        assert meeting_tasks.meeting_reminders_run.call() == 0
        following = DBTaskResult.objects.get(task_path=meeting_tasks.meeting_reminders_run.module_path)
        assert following.run_after == timezone.now() + timedelta(minutes=15)
        meeting_tasks.meeting_jobs_schedule()
        assert (
            DBTaskResult.objects.filter(task_path=meeting_tasks.meeting_reminders_run.module_path).count()
            == 1
        )


def test_checking_out_through_the_page_once_the_meeting_is_open(cast):
    session = prepared_dialogue(cast)
    with travel(session.starts_at + timedelta(minutes=5)):
        client = cast.client("responsible")
        assert "How are you leaving?" not in client.get(page_of(session)).content.decode()
        early = client.post(page_of(session) + "check-out/", {"feeling": "okay"})
        assert early.status_code == 409 and "once the meeting has started" in early.content.decode()
    opened(cast, session)
    with travel(session.starts_at + timedelta(minutes=95)):
        client = cast.client("responsible")
        assert "How are you leaving?" in client.get(page_of(session)).content.decode()
        sent = client.post(page_of(session) + "check-out/", {"feeling": "steady"})
        assert sent.status_code == 302
    row = Attendance.objects.get(session=session, participant=cast.responsible)
    assert row.departure == Feeling.STEADY and not StaffAlert.objects.exists()
