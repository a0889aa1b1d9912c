"""Meetings moved out of the circles app (issue 15) in Django's state only: a database built with the
migrations of the last commit before the split (5b45b45), holding circles, meetings of a case and of a
circle, their attendees, attendance and minutes, migrates forward and every row is still there, read back
through the new models with its relations. A migration that dropped or renamed one of the old tables, or one
of their columns, fails here."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mend.circles.models import Circle, CircleMember, Minutes, StaffAlert
from mend.meetings.models import Attendance, Meeting, MeetingKind, MeetingStatus

# The leaves of the two apps in 5b45b45's migration graph: circles still held the meetings then, and the
# meetings app did not exist; and the leaves of cases and accounts then, so that the places and the program
# are written with the columns they had (a later column without a database default, such as issue 16's
# exclusion_reason or issue 18's site_name, would refuse the rows).
BEFORE = [
    ("circles", "0002_minutes_staffalert_vetting_session_agenda_and_more"),
    ("meetings", None),
    ("cases", "0008_assignment_requests_and_team_notice"),
    ("accounts", "0005_sealed_keys_and_install_salt"),
]
OLD_TABLES = {
    "circles_session",
    "circles_session_attendees",
    "circles_session_member_attendees",
    "circles_attendance",
    "circles_minutes",
    "circles_staffalert",
}
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def _fill(apps) -> dict:
    """Rows of every kind the split touches, written with the models as they were before it."""
    model = apps.get_model
    user = model("accounts", "User").objects.create(
        username="keeper@example.org", kind="staff", display_name="K"
    )
    volunteer = model("accounts", "User").objects.create(
        username="volunteer@example.org", kind="staff", display_name="V"
    )
    program = model("accounts", "Program").objects.create(name="Programme", slug="programme")
    case = model("cases", "Case").objects.create(
        program=program, reference="R-SPLIT-1", harm_category="other", referral_source="self"
    )
    places = [
        model("cases", "Participant").objects.create(case=case, role=role, pseudonym=name, time_zone="UTC")
        for role, name in (("facilitator", "Fen"), ("harmed_party", "Kauri"), ("supporter", "Rimu"))
    ]
    circle = model("circles", "Circle").objects.create(
        program=program,
        kind="cosa",
        name="Tuesday circle",
        keeper=user,
        starts_on=date(2026, 1, 6),
        created_by=user,
    )
    member = model("circles", "CircleMember").objects.create(
        circle=circle, user=volunteer, role="volunteer", name="V"
    )
    Session = model("circles", "Session")
    of_case = Session.objects.create(
        case=case, kind="conference", format="video", starts_at=WHEN, time_zone="Pacific/Auckland",
        duration_minutes=90, status="scheduled", agenda="Plain words", speaking_order=[places[1].pk],
        created_by=user,
    )  # fmt: skip
    of_case.attendees.set(places)
    of_circle = Session.objects.create(
        circle=circle, kind="circle", format="in_person", starts_at=WHEN, time_zone="UTC", status="cancelled",
        opened_at=WHEN, ended_at=WHEN, created_by=user,
    )  # fmt: skip
    of_circle.member_attendees.set([member])
    Attendance = model("circles", "Attendance")
    Attendance.objects.create(
        session=of_case, participant=places[1], supporter=places[2], arrival="steady", departure="struggling",
        wants_support=True, attended=True,
    )  # fmt: skip
    Attendance.objects.create(session=of_circle, member=member, arrival="okay", attended=False)
    model("circles", "Minutes").objects.create(
        session=of_circle, envelope='{"v": 2}', concern=True, written_by=user, submitted_at=WHEN
    )
    model("circles", "StaffAlert").objects.create(
        recipient=user, program=program, kind="concern", circle=circle, session=of_circle
    )
    return {
        "case": of_case.pk,
        "circle_meeting": of_circle.pk,
        "places": [p.pk for p in places],
        "member": member.pk,
        "circle": circle.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_every_meeting_row_is_still_there_and_readable_after_the_split():
    executor = _migrate(BEFORE)
    ids = _fill(executor.loader.project_state(BEFORE[0]).apps)

    executor = _migrate(executor.loader.graph.leaf_nodes())

    assert set(connection.introspection.table_names()) >= OLD_TABLES, "the meetings kept their tables"
    of_case = Meeting.objects.get(pk=ids["case"])
    assert (of_case.kind, of_case.format, of_case.starts_at, of_case.time_zone) == (
        MeetingKind.CONFERENCE, "video", WHEN, "Pacific/Auckland"
    )  # fmt: skip
    assert (of_case.duration_minutes, of_case.status, of_case.agenda) == (
        90,
        MeetingStatus.SCHEDULED,
        "Plain words",
    )
    assert of_case.speaking_order == [ids["places"][1]]
    assert of_case.case.reference == "R-SPLIT-1" and of_case.circle is None
    assert sorted(p.pk for p in of_case.attendees.all()) == sorted(ids["places"])
    assert list(of_case.case.sessions.all()) == [of_case]

    of_circle = Meeting.objects.get(pk=ids["circle_meeting"])
    assert of_circle.circle == Circle.objects.get(pk=ids["circle"])
    assert (of_circle.status, of_circle.opened_at, of_circle.ended_at) == (
        MeetingStatus.CANCELLED,
        WHEN,
        WHEN,
    )
    assert [m.pk for m in of_circle.member_attendees.all()] == [ids["member"]]
    assert list(CircleMember.objects.get(pk=ids["member"]).sessions.all()) == [of_circle]

    at_case = Attendance.objects.get(session=of_case)
    assert (at_case.participant_id, at_case.supporter_id) == (ids["places"][1], ids["places"][2])
    assert (at_case.arrival, at_case.departure, at_case.wants_support, at_case.attended) == (
        "steady", "struggling", True, True
    )  # fmt: skip
    at_circle = of_circle.attendance.get()
    assert (at_circle.member_id, at_circle.arrival, at_circle.attended) == (ids["member"], "okay", False)

    minutes = Minutes.objects.get(session=of_circle)
    assert (minutes.envelope, minutes.concern, minutes.submitted_at) == ('{"v": 2}', True, WHEN)
    assert of_circle.minutes == minutes
    alert = StaffAlert.objects.get(session=of_circle)
    assert (alert.kind, alert.circle_id) == ("concern", ids["circle"])

    # Still written and deleted through the new models, on the old tables.
    of_case.attendees.remove(ids["places"][2])
    assert of_case.attendees.count() == 2
    of_circle.delete()
    assert not Attendance.objects.filter(member_id=ids["member"]).exists()
    assert not Minutes.objects.exists() and not StaffAlert.objects.exists()
