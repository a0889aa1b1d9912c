"""An interpreter comes to the meetings of the party they help, once that party agreed to have one: the
scheduler adds them, the video room lets them in, and they leave the moment the consent goes or the party
steps back, while the others meet as planned."""

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Role
from mend.consent import services as consent_services
from mend.core.errors import Conflict
from mend.meetings import rules, scheduling
from mend.meetings.models import Meeting, MeetingStatus
from mend.readiness.snapshot import snapshot_of
from tests.builders import consent, join, prepare_for_encounter
from tests.meetings.meeting_builders import dialogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def sage(cast):
    """Wren's interpreter, who joined and consents to take part; the case is ready for its encounter."""
    prepare_for_encounter(cast, mode="direct")
    place = join(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage", supports=cast.harmed
    )
    consent(place, "take_part")
    return place


def attendee_ids(session) -> set[int]:
    return set(session.attendees.values_list("pk", flat=True))


def test_the_scheduler_adds_the_interpreter_once_the_party_agrees(cast, sage):
    before = dialogue(cast)
    assert sage.pk not in attendee_ids(before)
    consent(cast.harmed, "interpreter")
    session = dialogue(cast)
    assert sage.pk in attendee_ids(session)
    events = AuditEvent.objects.filter(code="session.interpreter_added", target_id=str(session.pk))
    assert events.count() == 1 and "Sage" not in str(events.get().payload)


def test_the_scheduler_refuses_an_interpreter_the_party_has_not_agreed_to(cast, sage):
    with pytest.raises(Conflict) as refused:
        dialogue(cast, attendees=[cast.harmed, cast.responsible, sage])
    assert "an interpreter only for a person attending who agreed to have one" in refused.value.message


def test_the_scheduler_does_not_bring_the_interpreter_of_someone_not_attending(cast, sage):
    consent(cast.harmed, "interpreter")
    session = dialogue(cast, attendees=[cast.responsible])
    assert sage.pk not in attendee_ids(session)


def test_the_video_room_lets_the_interpreter_in_only_while_the_party_agrees(cast, sage):
    consent(cast.harmed, "interpreter")
    session = dialogue(cast)
    assert rules.person_missing(session, sage) == []
    invited = attendee_ids(session)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="interpreter")
    # Out of the room: no longer invited, and (in a meeting under way, which keeps its attendees) the room's
    # own rule for interpreters keeps them out.
    assert "an invitation to this meeting" in rules.person_missing(session, sage)
    assert rules.interpreter_missing(snapshot_of(cast.case), invited, sage) == [
        "an interpreter only for a person attending who agreed to have one"
    ]


def test_withdrawing_the_consent_takes_the_interpreter_out_of_the_meetings_ahead_and_the_rest_meet(
    cast, sage
):
    consent(cast.harmed, "interpreter")
    session = dialogue(cast)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="interpreter")
    session.refresh_from_db()
    assert session.status == MeetingStatus.SCHEDULED
    assert sage.pk not in attendee_ids(session)
    assert {cast.harmed.pk, cast.responsible.pk} <= attendee_ids(session)


def test_the_interpreter_leaves_with_the_party_who_takes_a_break(cast, sage):
    consent(cast.harmed, "interpreter")
    session = dialogue(cast)
    consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
    session.refresh_from_db()
    # A dialogue cannot go on without the person harmed: it waits on hold, and the interpreter is not in the
    # room meanwhile.
    assert session.status == MeetingStatus.ON_HOLD
    assert rules.person_missing(session, sage) != []


def test_inv_privacy_the_others_know_the_interpreter_only_as_an_interpreter(cast, sage):
    consent(cast.harmed, "interpreter")
    session = dialogue(cast)
    assert rules.name_of(session, sage) == "interpreter"
    page = cast.client("responsible").get(f"/cases/{cast.case.reference}/sessions/{session.pk}/")
    assert "Sage" not in page.content.decode()


# --- a meeting scheduled before the interpreter could come --------------------------------------------------


def interpreter_added_events(session):
    return AuditEvent.objects.filter(code="session.interpreter_added", target_id=str(session.pk))


def test_the_interpreter_joins_a_meeting_ahead_once_the_party_agrees_after_it_was_scheduled(cast, sage):
    session = dialogue(cast)
    assert sage.pk not in attendee_ids(session)
    sage.contact_method = "sage@example.org"
    sage.save(update_fields=["contact_method"])
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        consent(cast.harmed, "interpreter")
    assert sage.pk in attendee_ids(session)
    assert interpreter_added_events(session).count() == 1
    assert "Sage" not in str(interpreter_added_events(session).get().payload)
    # The interpreter is invited, with the meeting in their calendar; nobody else is written to again.
    assert [m.to for m in mail.outbox] == [["sage@example.org"]]
    assert mail.outbox[0].attachments
    # Nothing changes a second time.
    assert scheduling.meetings_add_interpreters(actor=cast.harmed.user, case=cast.case) == 0
    assert interpreter_added_events(session).count() == 1


def test_the_interpreter_joins_once_their_own_consent_comes_after_the_party_agreed(cast):
    prepare_for_encounter(cast, mode="direct")
    late = join(
        actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER, pseudonym="Sage", supports=cast.harmed
    )
    consent(cast.harmed, "interpreter")
    session = dialogue(cast)
    assert late.pk not in attendee_ids(session)  # they have not agreed to take part yet
    consent(late, "take_part")
    assert late.pk in attendee_ids(session)


def test_only_the_meetings_ahead_of_the_party_they_help_gain_the_interpreter(cast, sage):
    theirs = dialogue(cast)
    without_party = dialogue(cast, attendees=[cast.responsible])
    begun = dialogue(cast)
    Meeting.objects.filter(pk=begun.pk).update(opened_at=timezone.now())
    consent(cast.harmed, "interpreter")
    assert sage.pk in attendee_ids(theirs)
    assert sage.pk not in attendee_ids(without_party)
    assert sage.pk not in attendee_ids(begun)


def test_a_case_without_interpreters_costs_one_query(cast):
    prepare_for_encounter(cast, mode="direct")
    dialogue(cast)
    with CaptureQueriesContext(connection) as queries:
        assert scheduling.meetings_add_interpreters(actor=cast.harmed.user, case=cast.case) == 0
    assert len(queries) == 1


def test_a_meeting_brought_back_from_hold_brings_the_interpreter_agreed_to_meanwhile(cast, sage):
    session = dialogue(cast)
    consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)
    session.refresh_from_db()
    assert session.status == MeetingStatus.ON_HOLD
    consent(cast.harmed, "interpreter")
    consent_services.participant_resume(actor=cast.harmed.user, place=cast.harmed)
    # Nobody was left on Wren's side, so the case paused too; the facilitator resumes it.
    cast.case.refresh_from_db()
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="resume")
    assert sage.pk not in attendee_ids(session)  # a meeting on hold waits as it was
    scheduling.meeting_restore(actor=cast.facilitator, session=session)
    assert sage.pk in attendee_ids(session)
    assert interpreter_added_events(session).count() == 1
