"""Issue 16, the meetings part: a path per person. One person's stop, break or exclusion takes that person
(and the supporters who come for them) out of the meetings ahead; the others meet as planned while they
still can. A meeting only the person left could make is cancelled, or put on hold for a break; a meeting
between the sides that loses its last person on one side is cancelled. The scheduler offers only people on
their path, and nobody left out receives an invitation, a reminder or a notice of a meeting."""

import re

import pytest
from django.core import mail

from mend import builders
from mend.audit.models import AuditEvent
from mend.cases.models import Notice, Role
from mend.consent import services as consent_services
from mend.core.errors import Conflict
from mend.meetings import contexts, scheduling
from mend.meetings import services as meetings
from mend.meetings.models import Meeting, MeetingStatus
from tests.builders import facilitator_place, signed_in
from tests.meetings.meeting_builders import in_two_days

FIVE = ("Aspen", "Birch", "Cedar", "Dune", "Elm")


@pytest.fixture
def breach(cast):
    """A data breach: five people harmed and one person responsible (Falcon), prepared to meet directly."""
    prepared = builders.prepared_case(
        program=cast.program, facilitator=cast.facilitator, harmed=FIVE, responsible=("Falcon",)
    )
    prepared.facilitator = facilitator_place(prepared.case, cast.facilitator)
    return prepared


def _schedule(cast, case, people, *, kind="conference"):
    return scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=case,
        kind=kind,
        format="in_person",
        starts_at=in_two_days(),
        time_zone="Pacific/Auckland",
        attendees=people,
        duration_minutes=120,
    )


def _with_email(place, address):
    place.contact_method = address
    place.save(update_fields=["contact_method"])
    return place


def _attending(session) -> set[str]:
    return set(Meeting.objects.get(pk=session.pk).attendees.values_list("pseudonym", flat=True))


def _status(session) -> str:
    return Meeting.objects.get(pk=session.pk).status


def _meetings_of_five(cast, breach):
    aspen = breach.harmed[0]
    conference = _schedule(cast, breach.case, [breach.facilitator, *breach.harmed, *breach.responsible])
    alone = _schedule(cast, breach.case, [breach.facilitator, aspen], kind="preparation")
    return aspen, conference, alone


def _left_events(session):
    return AuditEvent.objects.filter(code="session.attendee_left", target_id=str(session.pk))


def _nothing_sent_to(cast, session, place):
    """Invitations and reminders of the meeting go out, and none reaches this person (email or notice)."""
    mail.outbox.clear()
    meetings.invitations_send(actor=cast.facilitator, session=session)
    session.refresh_from_db()
    before = Notice.objects.filter(recipient=place).count()
    meetings.remind(session_id=session.pk, starts_at=session.starts_at.isoformat(), before="day")
    assert all(place.contact_method not in message.to for message in mail.outbox)
    assert Notice.objects.filter(recipient=place).count() == before
    return mail.outbox


def test_inv_voluntary_one_of_five_stops_and_the_conference_goes_on_for_the_four(cast, breach):
    aspen, conference, alone = _meetings_of_five(cast, breach)
    _with_email(aspen, "aspen@example.org")
    _with_email(breach.harmed[1], "birch@example.org")
    builders.stop(aspen)
    assert _status(conference) == MeetingStatus.SCHEDULED
    assert _attending(conference) == {breach.facilitator.pseudonym, *FIVE[1:], "Falcon"}
    assert _status(alone) == MeetingStatus.CANCELLED, "nobody but the facilitator is left in it"
    events = list(_left_events(conference))
    assert len(events) == 1 and events[0].payload == {"attendees": 6}, "no name, no id in the payload"
    sent = _nothing_sent_to(cast, conference, aspen)
    assert [m.to for m in sent] == [["birch@example.org"]], "the others are still invited"


def test_inv_voluntary_one_of_five_takes_a_break_and_only_her_own_meeting_waits(cast, breach):
    aspen, conference, alone = _meetings_of_five(cast, breach)
    _with_email(aspen, "aspen@example.org")
    consent_services.participant_pause(actor=aspen.user, place=aspen)
    assert _status(conference) == MeetingStatus.SCHEDULED
    assert "Aspen" not in _attending(conference) and {"Birch", "Elm", "Falcon"} <= _attending(conference)
    assert _status(alone) == MeetingStatus.ON_HOLD, "the meeting only with her waits for her"
    assert "Aspen" in _attending(alone)
    _nothing_sent_to(cast, conference, aspen)


def test_inv_voluntary_one_of_five_excluded_leaves_the_others_meeting(cast, breach):
    aspen, conference, alone = _meetings_of_five(cast, breach)
    consent_services.participant_exclude(actor=cast.facilitator, place=aspen, reason="Safety concerns.")
    assert _status(conference) == MeetingStatus.SCHEDULED
    assert "Aspen" not in _attending(conference) and len(_attending(conference)) == 6
    assert _status(alone) == MeetingStatus.CANCELLED
    assert "Safety" not in str(list(_left_events(conference).values_list("payload", flat=True)))
    _nothing_sent_to(cast, conference, aspen)


def test_inv_voluntary_the_last_person_on_a_side_stops_and_the_meeting_is_cancelled(cast, breach):
    _aspen, conference, _alone = _meetings_of_five(cast, breach)
    falcon = breach.responsible[0]
    builders.stop(falcon)
    assert _status(conference) == MeetingStatus.CANCELLED, "a meeting between the sides with one side gone"
    assert "Falcon" in _attending(conference), "a cancelled meeting keeps who was invited"


def test_inv_voluntary_a_break_of_the_last_on_a_side_puts_the_meeting_on_hold(cast, breach):
    _aspen, conference, _alone = _meetings_of_five(cast, breach)
    falcon = breach.responsible[0]
    consent_services.participant_pause(actor=falcon.user, place=falcon)
    assert _status(conference) == MeetingStatus.ON_HOLD


@pytest.fixture
def school(cast):
    """One person harmed (Kauri) and three youths responsible (Kea, Tui, Weka), each with their own supporter
    (Rata for Kea, Miro for Tui, Nikau for Weka), prepared to meet directly, supporters welcome."""
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Kauri",),
        responsible=("Kea", "Tui", "Weka"),
        readiness=builders.Readiness(extra_scopes=("supporters_present",), supporters_may_attend=True),
    )
    prepared.facilitator = facilitator_place(prepared.case, cast.facilitator)
    prepared.supporters = []
    for youth, name in zip(prepared.responsible, ("Rata", "Miro", "Nikau"), strict=True):
        place = builders.join(
            actor=cast.facilitator, case=prepared.case, role=Role.SUPPORTER, pseudonym=name, supports=youth
        )
        builders.give_consent(place, "take_part", "facilitator_contact")
        prepared.supporters.append(place)
    return prepared


def test_inv_voluntary_one_youth_stops_and_he_and_his_supporter_leave_the_others_meet(cast, school):
    people = [school.facilitator, *school.harmed, *school.responsible, *school.supporters]
    conference = _schedule(cast, school.case, people)
    kea = school.responsible[0]
    builders.stop(kea)
    assert _status(conference) == MeetingStatus.SCHEDULED
    attending = _attending(conference)
    assert not {"Kea", "Rata"} & attending, "he and the supporter who comes for him leave"
    assert {"Kauri", "Tui", "Miro", "Weka", "Nikau"} <= attending
    assert _left_events(conference).count() == 2


def test_inv_voluntary_a_conference_round_and_supporter_rows_forget_the_person_who_left(cast, school):
    people = [school.facilitator, *school.harmed, *school.responsible, *school.supporters]
    conference = _schedule(cast, school.case, people)
    kauri, (kea, tui, _weka) = school.harmed[0], school.responsible
    meetings.conference_set(
        actor=cast.facilitator,
        session=conference,
        agenda="Welcome.",
        speaking_order=[kauri.pk, kea.pk, tui.pk],
        supporters={kea.pk: school.supporters[0].pk, tui.pk: school.supporters[1].pk},
    )
    builders.stop(kea)
    conference.refresh_from_db()
    assert conference.speaking_order == [kauri.pk, tui.pk]
    rows = conference.attendance.all()
    assert not rows.filter(participant=kea).exists()
    assert rows.get(participant=tui).supporter_id == school.supporters[1].pk


def test_inv_voluntary_a_narrowed_consent_takes_out_only_the_people_it_concerns(cast, school):
    people = [school.facilitator, *school.harmed, *school.responsible, *school.supporters]
    conference = _schedule(cast, school.case, people)
    tui = school.responsible[1]
    # Tui no longer wants supporters there: Miro, his supporter, leaves; everyone else meets.
    consent_services.consent_withdraw(actor=tui.user, place=tui, scope="supporters_present")
    assert _status(conference) == MeetingStatus.SCHEDULED
    attending = _attending(conference)
    assert "Miro" not in attending and {"Tui", "Kea", "Rata", "Kauri"} <= attending


def test_a_narrowed_choice_of_the_only_person_harmed_still_cancels_the_meeting(cast, school):
    people = [school.facilitator, *school.harmed, *school.responsible]
    conference = _schedule(cast, school.case, people)
    kauri = school.harmed[0]
    consent_services.consent_withdraw(actor=kauri.user, place=kauri, scope="direct_meeting")
    assert _status(conference) == MeetingStatus.CANCELLED


# --- the scheduler offers only people on their path ---------------------------------------------------------


def test_the_scheduler_offers_only_people_on_their_path(cast, breach):
    aspen, birch = breach.harmed[0], breach.harmed[1]
    builders.stop(aspen)
    consent_services.participant_pause(actor=birch.user, place=birch)
    offered = {p.pseudonym for p in contexts.schedule_people(breach.case)}
    assert not {"Aspen", "Birch"} & offered and {"Cedar", "Falcon"} <= offered
    assert {p.pseudonym for p in contexts.schedule_left_out(breach.case)} == {"Aspen", "Birch"}
    client = signed_in(cast.facilitator)
    url = f"/cases/{breach.case.reference}/sessions/new/"
    text = client.get(url).content.decode()
    for place in (aspen, birch):
        assert not re.search(rf'<input type="checkbox"[^>]*value="{place.pk}"', text), "not offered"
    assert re.search(rf'<input type="checkbox"[^>]*value="{breach.harmed[2].pk}"', text)
    assert "Not taking part for now: Aspen (person harmed), Birch (person harmed)" in text
    # A form sent with her anyway (she stopped while it was open) is refused with the exact reason.
    sent = client.post(
        url,
        {
            "kind": "conference",
            "format": "in_person",
            "date": in_two_days().date().isoformat(),
            "time": "10:00",
            "time_zone": "Pacific/Auckland",
            "duration_minutes": "60",
            "attendees": [breach.facilitator.pk, aspen.pk, breach.responsible[0].pk],
        },
    )
    assert sent.status_code == 409
    assert "consent to take part from the person harmed (Aspen)" in sent.content.decode()


def test_scheduling_with_a_person_left_out_is_refused_with_the_reason(cast, breach):
    aspen, birch, cedar = breach.harmed[:3]
    builders.stop(aspen)
    consent_services.participant_pause(actor=birch.user, place=birch)
    consent_services.participant_exclude(actor=cast.facilitator, place=cedar, reason="Not safe now.")
    for place, reason in (
        (aspen, "consent to take part from the person harmed (Aspen)"),
        (birch, "the person harmed (Birch) to come back from their break"),
        (cedar, "the person harmed (Cedar) to be back in the process"),
    ):
        with pytest.raises(Conflict, match=reason.replace("(", r"\(").replace(")", r"\)")):
            _schedule(cast, breach.case, [breach.facilitator, place, *breach.responsible])


def test_inv_voluntary_a_person_excluded_is_neither_invited_nor_reminded_even_if_still_listed(cast, breach):
    """However it came about (the record changed underneath), a person marked as no longer in the process
    receives no invitation, reminder or notice of a meeting (services._reachable reads their standing)."""
    aspen, conference, _alone = _meetings_of_five(cast, breach)
    _with_email(aspen, "aspen@example.org")
    type(aspen).objects.filter(pk=aspen.pk).update(excluded_at=conference.created_at)
    assert "Aspen" in _attending(conference)
    assert _nothing_sent_to(cast, conference, aspen) == []


def test_inv_voluntary_a_meeting_under_way_loses_the_person_and_their_supporter_at_once(cast, monkeypatch):
    from mend.meetings import room
    from tests.meetings.video_builders import live_dialogue

    removed = []
    monkeypatch.setattr(room, "meeting_remove_person", lambda *, place, session: removed.append(place.pk))
    session = live_dialogue(cast, supporter=True)
    builders.stop(cast.harmed)
    assert sorted(removed) == sorted([cast.harmed.pk, cast.supporter.pk])
    assert _status(session) == MeetingStatus.SCHEDULED, "a meeting under way is the room's to end"
