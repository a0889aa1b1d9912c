"""An interpreter comes to the meetings of the party they help, once that party agreed to have one: the
scheduler adds them, the video room lets them in, and they leave the moment the consent goes or the party
steps back, while the others meet as planned."""

import pytest

from mend.audit.models import AuditEvent
from mend.cases.models import Role
from mend.consent import services as consent_services
from mend.core.errors import Conflict
from mend.meetings import rules
from mend.meetings.models import MeetingStatus
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
