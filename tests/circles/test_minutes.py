"""Minutes: sealed on the writer's device to exactly the keeper and the coordinators, signed, stored as
ciphertext; refused whole from anyone outside the circle or in any bad form; a concern alerts every
coordinator at once; minutes more than 48 hours late alert every coordinator once (time travel)."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mend.audit.models import AuditEvent
from mend.circles import minutes as late
from mend.circles import standing
from mend.circles.models import Minutes, StaffAlert
from mend.core import envelope as env
from mend.meetings.models import Meeting
from tests.builders import make_staff
from tests.circles.builders import (
    MINUTES_TEXT,
    cosa,
    keys_for_readers,
    meeting,
    recipients_now,
    seal_minutes,
)
from tests.dialogue.helpers import give_keys

Kind = StaffAlert.Kind


def start_time():
    """A whole hour a month from now, so that every moment the tests travel to is still ahead."""
    return (timezone.now() + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def second_coordinator(cast):
    return make_staff(cast.program, "coordinator", "coord2@riverbend.test", "Cam Coordinator")


def alerts(kind=Kind.MINUTES_OVERDUE):
    return sorted(StaffAlert.objects.filter(kind=kind).values_list("recipient_id", "session_id"))


def check():
    return late.minutes_overdue_alert(now=timezone.now())


# Late minutes, with time travel.


def test_late_minutes_alert_each_coordinator_once_after_48_hours(cast, second_coordinator):
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core, found.volunteer], minutes=90)
        ended = session.starts_at + timedelta(minutes=90)
        traveller.move_to(ended + timedelta(hours=47))
        assert check() == 0, "47 hours after the meeting: not late yet"
        traveller.move_to(ended + timedelta(hours=49))
        assert check() == 2, "49 hours: one alert for each coordinator"
        assert alerts() == sorted([(cast.coordinator.pk, session.pk), (second_coordinator.pk, session.pk)])
        assert check() == 0, "the next hour: no second alert"
        traveller.move_to(ended + timedelta(days=5))
        assert check() == 0
    assert StaffAlert.objects.count() == 2
    alert = StaffAlert.objects.get(recipient=cast.coordinator)
    assert (alert.program, alert.circle) == (cast.program, found.circle)


def test_minutes_sent_in_time_bring_no_alert(cast):
    keys = keys_for_readers(cast)
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core, found.volunteer])
        traveller.move_to(session.starts_at + timedelta(hours=20))
        standing.minutes_submit(
            actor=cast.volunteer,
            session=session,
            envelope=seal_minutes(session, keys["volunteer"]),
            concern=False,
        )
        traveller.move_to(session.starts_at + timedelta(hours=60))
        assert check() == 0
    assert not StaffAlert.objects.exists()


def test_a_meeting_that_ended_early_is_due_48_hours_after_it_ended(cast):
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core], minutes=180)
        Meeting.objects.filter(pk=session.pk).update(ended_at=session.starts_at + timedelta(minutes=30))
        traveller.move_to(session.starts_at + timedelta(minutes=30, hours=48, seconds=1))
        assert check() == 1


def test_a_cancelled_meeting_needs_no_minutes(cast):
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core])
        standing.circle_close(actor=cast.coordinator, circle=found.circle)
        traveller.move_to(session.starts_at + timedelta(days=3))
        assert check() == 0


def test_late_minutes_of_a_case_meeting_alert_the_coordinators_too(cast):
    with travel(start_time()) as traveller:
        session = Meeting.objects.create(
            case=cast.case,
            kind="preparation",
            format="video",
            starts_at=timezone.now() + timedelta(days=1),
            time_zone="UTC",
            duration_minutes=60,
            created_by=cast.facilitator,
        )
        traveller.move_to(session.starts_at + timedelta(hours=1, minutes=47 * 60 + 59))
        assert check() == 0
        traveller.move_to(session.starts_at + timedelta(hours=49, minutes=1))
        assert check() == 1
        assert check() == 0
    alert = StaffAlert.objects.get()
    assert (alert.recipient, alert.program, alert.circle, alert.session) == (
        cast.coordinator,
        cast.program,
        None,
        session,
    )


def test_a_program_without_coordinators_alerts_its_admins(cast):
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core])
        cast.coordinator.memberships.all().delete()
        traveller.move_to(session.starts_at + timedelta(hours=52))
        assert check() == 1
    assert alerts() == [(cast.admin.pk, session.pk)]


def test_the_hourly_job_alerts_and_books_its_next_run(cast):
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core])
        traveller.move_to(session.starts_at + timedelta(hours=50))
        assert late.minutes_check.call() == 1
        following = DBTaskResult.objects.get(task_path=late.minutes_check.module_path, status="READY")
        assert following.run_after == timezone.now() + timedelta(hours=1)
        traveller.shift(timedelta(hours=1))
        assert late.minutes_check.call() == 0
    assert DBTaskResult.objects.filter(task_path=late.minutes_check.module_path, status="READY").count() == 1


def test_the_worker_books_the_minutes_check_once(db):
    late.circle_jobs_schedule()
    late.circle_jobs_schedule()
    assert DBTaskResult.objects.filter(task_path=late.minutes_check.module_path, status="READY").count() == 1


# A concern.


def test_a_concern_alerts_every_coordinator_at_once(cast, second_coordinator):
    keys = keys_for_readers(cast)
    give_keys(second_coordinator)
    found = cosa(cast)
    with travel(start_time()) as traveller:
        session = meeting(cast, found.circle, [found.core, found.volunteer])
        traveller.move_to(session.starts_at + timedelta(hours=2))
        minutes, created = standing.minutes_submit(
            actor=cast.volunteer,
            session=session,
            envelope=seal_minutes(session, keys["volunteer"]),
            concern=True,
        )
    assert created and minutes.concern
    assert alerts(Kind.CONCERN) == sorted(
        [(cast.coordinator.pk, session.pk), (second_coordinator.pk, session.pk)]
    )
    assert not StaffAlert.objects.filter(kind=Kind.MINUTES_OVERDUE).exists()


def test_minutes_without_a_concern_alert_nobody(cast):
    keys = keys_for_readers(cast)
    found = cosa(cast)
    with travel(start_time()) as traveller:
        session = meeting(cast, found.circle, [found.core])
        traveller.move_to(session.starts_at + timedelta(hours=2))
        standing.minutes_submit(
            actor=cast.facilitator,
            session=session,
            envelope=seal_minutes(session, keys["facilitator"]),
            concern=False,
        )
    assert not StaffAlert.objects.exists()


# Accepting minutes.


@pytest.fixture
def held(cast):
    """A circle meeting that began two hours ago, and the keys of the keeper, coordinator and volunteer."""
    keys = keys_for_readers(cast)
    found = cosa(cast)
    with travel(start_time()) as traveller:
        session = meeting(cast, found.circle, [found.core, found.volunteer])
        traveller.move_to(session.starts_at + timedelta(hours=2))
        yield found, session, keys


def test_minutes_are_stored_sealed_to_the_keeper_and_the_coordinators(cast, held):
    found, session, keys = held
    envelope = seal_minutes(session, keys["volunteer"])
    minutes, created = standing.minutes_submit(
        actor=cast.volunteer, session=session, envelope=envelope, concern=False
    )
    assert created
    stored = Minutes.objects.get(session=session)
    assert stored.written_by == cast.volunteer
    assert MINUTES_TEXT not in stored.envelope
    assert json.loads(stored.envelope) == envelope
    for reader in ("facilitator", "coordinator"):
        assert env.open_envelope(json.loads(stored.envelope), keys[reader]) == {"text": MINUTES_TEXT}
    with pytest.raises(env.EnvelopeError):
        env.open_envelope(json.loads(stored.envelope), keys["volunteer"])
    event = AuditEvent.objects.get(code="minutes.submitted")
    assert event.payload == {"circle": found.circle.pk, "session": session.pk, "concern": False}


def test_the_same_minutes_again_are_acknowledged_once_and_other_minutes_refused(cast, held):
    _found, session, keys = held
    envelope = seal_minutes(session, keys["volunteer"])
    first, _ = standing.minutes_submit(actor=cast.volunteer, session=session, envelope=envelope, concern=True)
    again, created = standing.minutes_submit(
        actor=cast.volunteer, session=session, envelope=envelope, concern=True
    )
    assert (again.pk, created) == (first.pk, False)
    with pytest.raises(standing.MinutesRefused, match="already sent") as refused:
        standing.minutes_submit(
            actor=cast.facilitator,
            session=session,
            envelope=seal_minutes(session, keys["facilitator"]),
            concern=False,
        )
    assert refused.value.status == 409
    assert Minutes.objects.count() == 1
    assert AuditEvent.objects.filter(code="minutes.submitted").count() == 1
    assert StaffAlert.objects.filter(kind=Kind.CONCERN).count() == 1


def _nothing_written():
    assert not Minutes.objects.exists()
    assert not StaffAlert.objects.exists()
    assert not AuditEvent.objects.filter(code="minutes.submitted").exists()


@pytest.mark.parametrize(
    "who", ["other_facilitator_same_program", "coordinator", "admin", "outsider", "harmed"]
)
def test_minutes_from_someone_outside_the_writers_are_refused(cast, held, who):
    _found, session, _keys = held
    user = getattr(cast, who)
    user = getattr(user, "user", user)
    writer = give_keys(user)
    with pytest.raises(
        standing.MinutesRefused, match="Only the circle's keeper and its volunteers"
    ) as refused:
        standing.minutes_submit(
            actor=user, session=session, envelope=seal_minutes(session, writer), concern=True
        )
    assert (refused.value.status, refused.value.code) == (403, "member")
    _nothing_written()


def test_minutes_from_the_core_member_or_a_former_volunteer_are_refused(cast, held):
    found, session, keys = held
    core_keys = give_keys(cast.responsible.user)
    with pytest.raises(standing.MinutesRefused, match="Only the circle's keeper and its volunteers"):
        standing.minutes_submit(
            actor=cast.responsible.user,
            session=session,
            envelope=seal_minutes(session, core_keys),
            concern=False,
        )
    standing.member_remove(actor=cast.coordinator, member=found.volunteer)
    with pytest.raises(standing.MinutesRefused, match="Only the circle's keeper and its volunteers"):
        standing.minutes_submit(
            actor=cast.volunteer,
            session=session,
            envelope=seal_minutes(session, keys["volunteer"]),
            concern=False,
        )
    _nothing_written()


def _tampered_body(envelope):
    body = bytearray(env.unb64u(envelope["body"]))
    body[0] ^= 1
    return {**envelope, "body": env.b64u(bytes(body))}


BAD = {
    "not an object": lambda s, k, c: ["v", 1],
    "missing fields": lambda s, k, c: {"v": 1},
    "another meeting": lambda s, k, c: seal_minutes(s, k["volunteer"], conversation="minutes-999999"),
    "a relay kind": lambda s, k, c: seal_minutes(
        s, k["volunteer"], meta={"kind": "for_relay", "approved": True}
    ),
    "attachments": lambda s, k, c: seal_minutes(
        s, k["volunteer"], meta={"kind": "message", "files": ["00000000-0000-4000-8000-000000000000"]}
    ),
    "a body changed after signing": lambda s, k, c: _tampered_body(seal_minutes(s, k["volunteer"])),
    "signed by other keys": lambda s, k, c: {
        **seal_minutes(s, env.KeyPair.generate()),
        "sender": k["volunteer"].key_id,
    },
    "sealed with old keys": lambda s, k, c: (
        seal_minutes(s, k["volunteer"]) if give_keys(c.volunteer) else None
    ),
    "a coordinator left out": lambda s, k, c: seal_minutes(
        s,
        k["volunteer"],
        recipients=[r for r in recipients_now(s.circle) if r.key_id != k["coordinator"].key_id],
    ),
    "someone else added": lambda s, k, c: seal_minutes(
        s,
        k["volunteer"],
        recipients=[
            *recipients_now(s.circle),
            env.Recipient(k["volunteer"].key_id, k["volunteer"].enc_public),
        ],
    ),
}


BAD_CODE = {
    "not an object": "form",
    "missing fields": "form",
    "another meeting": "form",
    "a relay kind": "form",
    "attachments": "form",
    "a body changed after signing": "signature",
    "signed by other keys": "signature",
    "sealed with old keys": "sender_key",
    "a coordinator left out": "recipients",
    "someone else added": "recipients",
}


@pytest.mark.parametrize("problem", list(BAD))
def test_a_bad_envelope_is_refused_and_nothing_is_written(cast, held, problem):
    _found, session, keys = held
    envelope = BAD[problem](session, keys, cast)
    with pytest.raises(standing.MinutesRefused) as refused:
        standing.minutes_submit(actor=cast.volunteer, session=session, envelope=envelope, concern=True)
    assert refused.value.code == BAD_CODE[problem]
    assert refused.value.message
    _nothing_written()


@pytest.mark.parametrize("concern", ["yes", 1, None])
def test_the_concern_flag_must_be_true_or_false(cast, held, concern):
    _found, session, keys = held
    with pytest.raises(standing.MinutesRefused, match="concern"):
        standing.minutes_submit(
            actor=cast.volunteer,
            session=session,
            envelope=seal_minutes(session, keys["volunteer"]),
            concern=concern,
        )
    _nothing_written()


def test_minutes_wait_until_the_meeting_has_begun(cast):
    keys = keys_for_readers(cast)
    found = cosa(cast)
    session = meeting(cast, found.circle, [found.core, found.volunteer])
    with pytest.raises(standing.MinutesRefused, match="once the meeting has begun") as refused:
        standing.minutes_submit(
            actor=cast.volunteer,
            session=session,
            envelope=seal_minutes(session, keys["volunteer"]),
            concern=True,
        )
    assert refused.value.status == 409
    _nothing_written()


def test_a_case_meeting_takes_no_circle_minutes(cast):
    keys = keys_for_readers(cast)
    session = Meeting.objects.create(
        case=cast.case,
        kind="preparation",
        format="video",
        starts_at=timezone.now() - timedelta(hours=2),
        time_zone="UTC",
        created_by=cast.facilitator,
    )
    envelope = env.seal(
        sender=keys["facilitator"],
        conversation=standing.minutes_conversation(session),
        content={"text": "x"},
        recipients=[env.Recipient(keys["coordinator"].key_id, keys["coordinator"].enc_public)],
    )
    with pytest.raises(standing.MinutesRefused, match="circle meetings"):
        standing.minutes_submit(actor=cast.facilitator, session=session, envelope=envelope, concern=False)
    _nothing_written()


# Alerts on the dashboard.


def test_alerts_for_name_the_circle_and_date_and_go_once_minutes_arrive(cast):
    keys = keys_for_readers(cast)
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core, found.volunteer])
        traveller.move_to(session.starts_at + timedelta(hours=50))
        check()
        shown = late.alerts_for(cast.coordinator)
        assert [a["kind"] for a in shown] == ["minutes_overdue"]
        assert "Tuesday circle" in shown[0]["text"] and "overdue" in shown[0]["text"]
        assert shown[0]["url"] == f"/circles/{found.circle.pk}/meetings/{session.pk}/minutes/"
        assert late.alerts_for(cast.facilitator) == []
        assert late.alerts_for(cast.volunteer) == []
        standing.minutes_submit(
            actor=cast.volunteer,
            session=session,
            envelope=seal_minutes(session, keys["volunteer"]),
            concern=True,
        )
        shown = late.alerts_for(cast.coordinator)
        assert [a["kind"] for a in shown] == ["concern"]
        for alert in shown:
            assert MINUTES_TEXT not in alert["text"]
        late.staff_alert_read(actor=cast.coordinator, alert=StaffAlert.objects.get(kind=Kind.CONCERN))
        assert late.alerts_for(cast.coordinator) == []


def test_inv_privacy_alerts_of_a_program_one_has_left_are_no_longer_shown(cast):
    with travel(start_time()) as traveller:
        found = cosa(cast)
        session = meeting(cast, found.circle, [found.core, found.volunteer])
        traveller.move_to(session.starts_at + timedelta(hours=50))
        check()
        assert [a["kind"] for a in late.alerts_for(cast.coordinator)] == ["minutes_overdue"]
        cast.coordinator.memberships.filter(program=cast.program).delete()
        assert late.alerts_for(cast.coordinator) == []


def test_inv_confidentiality_minutes_are_not_sealed_to_a_keeper_who_has_left(cast):
    found = cosa(cast)
    assert cast.facilitator in standing.minutes_readers(found.circle)
    cast.facilitator.memberships.filter(program=cast.program).delete()
    assert standing.minutes_readers(found.circle) == [cast.coordinator]
    # Nor to one whose account is closed.
    cast.facilitator.memberships.create(program=cast.program, role="facilitator")
    found.circle.keeper.is_active = False
    assert standing.minutes_readers(found.circle) == [cast.coordinator]
