"""The circle pages: who reaches which (outsiders and other programs get the same 404 as a circle that does
not exist), what members and staff each see, clear errors for bad input, times in the viewer's time zone,
the minutes endpoints, alerts, and query counts that do not grow with members or meetings."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.circles import minutes as late
from mend.circles.models import Circle, CircleMember, Minutes, StaffAlert
from mend.meetings.models import Meeting, MeetingStatus
from tests.builders import signed_in
from tests.circles.builders import (
    CORE_NAME,
    VOLUNTEER_NAME,
    add,
    circle_for_matrix,
    cosa,
    keys_for_readers,
    meeting,
    more_volunteers,
    new_circle,
    seal_minutes,
    vet,
)
from tests.dialogue.helpers import give_keys

MISSING = 999999
SEES_THE_CIRCLE = {"admin", "coordinator", "facilitator", "volunteer", "responsible"}
EVERYONE = [
    "admin",
    "coordinator",
    "facilitator",
    "other_facilitator_same_program",
    "volunteer",
    "other_program_facilitator",
    "harmed",
    "responsible",
    "supporter",
    "outsider",
]


@pytest.fixture
def place(cast):
    return circle_for_matrix(cast)


def _normalised(response) -> bytes:
    # The CSRF token on a page is masked afresh for every response; nothing else may differ.
    return re.sub(rb'(name="csrfmiddlewaretoken" value|data-csrf)="[^"]+"', b"", response.content)


def client(cast, who):
    return cast.client(who)


# Who reaches what.


@pytest.mark.parametrize("who", EVERYONE)
def test_the_circle_page_is_for_its_staff_keeper_and_members_only(cast, place, who):
    response = client(cast, who).get(f"/circles/{place.circle_id}/")
    assert response.status_code == (200 if who in SEES_THE_CIRCLE else 404)
    if who not in SEES_THE_CIRCLE:
        missing = client(cast, who).get(f"/circles/{MISSING}/")
        assert missing.status_code == 404
        assert _normalised(missing) == _normalised(response), "a circle not yours looks exactly like none"
        assert b"Tuesday circle" not in response.content


def test_signing_in_is_needed(cast, place):
    from django.test import Client

    response = Client().get(f"/circles/{place.circle_id}/")
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")


@pytest.mark.parametrize(
    "who", ["facilitator", "volunteer", "responsible", "outsider", "other_program_facilitator"]
)
def test_the_list_shows_each_person_their_own_circles(cast, place, who):
    response = client(cast, who).get("/circles/")
    assert response.status_code == 200
    assert (b"Tuesday circle" in response.content) == (who in SEES_THE_CIRCLE)


def test_a_coordinator_sees_every_circle_of_the_program_and_none_of_another(cast, place):
    new_circle(cast, kind="survivor_peer", name="Thursday peers", actor=cast.facilitator)
    body = client(cast, "coordinator").get("/circles/").content.decode()
    assert "Tuesday circle" in body and "Thursday peers" in body
    assert "Volunteers&#x27; vetting" in body or "Volunteers' vetting" in body
    assert "Tuesday circle" not in client(cast, "other_program_facilitator").get("/circles/").content.decode()


def test_members_see_names_in_the_circle_and_only_staff_see_vetting(cast, place):
    for who in ("coordinator", "facilitator", "volunteer", "responsible", "admin"):
        body = client(cast, who).get(f"/circles/{place.circle_id}/").content.decode()
        assert CORE_NAME in body and VOLUNTEER_NAME in body, who
        assert "Kestrel" not in body, "the case pseudonym stays in the case"
        staff = who in ("coordinator", "facilitator", "admin")
        assert ("Trained; background check" in body) == staff, who
        assert ('data-testid="vetting"' in body) == staff, who
        assert (cast.case.reference in body) == (who in ("coordinator", "admin")), who


def test_members_who_do_not_write_minutes_do_not_see_them(cast, place):
    core = client(cast, "responsible").get(f"/circles/{place.circle_id}/").content.decode()
    assert 'data-testid="past"' not in core
    assert "/minutes/" not in core
    volunteer = client(cast, "volunteer").get(f"/circles/{place.circle_id}/").content.decode()
    assert "write the minutes" in volunteer


MANAGE_PAGES = [
    ("GET", "/circles/{c}/members/"),
    ("GET", "/circles/{c}/meetings/new/"),
    ("POST", "/circles/{c}/close/"),
    ("POST", "/circles/{c}/members/{m}/remove/"),
]


@pytest.mark.parametrize(("method", "path"), MANAGE_PAGES)
@pytest.mark.parametrize(
    "who", ["volunteer", "responsible", "other_facilitator_same_program", "other_program_facilitator"]
)
def test_only_the_keeper_and_coordinators_manage_a_circle(cast, place, method, path, who):
    url = path.format(c=place.circle_id, m=place.member_id)
    response = getattr(client(cast, who), method.lower())(url)
    assert response.status_code == 404
    assert Circle.objects.get().closed_at is None
    assert CircleMember.objects.filter(left_at__isnull=True).count() == 2


@pytest.mark.parametrize("who", ["facilitator", "coordinator", "admin"])
def test_the_keeper_and_coordinators_reach_the_manage_pages(cast, place, who):
    for url in (f"/circles/{place.circle_id}/members/", f"/circles/{place.circle_id}/meetings/new/"):
        assert client(cast, who).get(url).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [("coordinator", 200), ("admin", 200), ("facilitator", 404), ("volunteer", 404), ("responsible", 404)],
)
def test_the_vetting_page_is_for_coordinators_and_admins(cast, who, status):
    assert client(cast, who).get("/circles/vetting/").status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [("coordinator", 200), ("facilitator", 200), ("volunteer", 404), ("responsible", 404), ("outsider", 404)],
)
def test_starting_a_circle_is_for_the_programs_coordinators_and_facilitators(cast, who, status):
    assert client(cast, who).get("/circles/new/").status_code == status


# Forms: clear errors for bad input, and what a good one does.


def test_an_empty_new_circle_form_says_what_is_missing(cast):
    response = client(cast, "coordinator").post("/circles/new/", {})
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("This field is required.") >= 4
    assert not Circle.objects.exists()


def _circle_form(cast, **changes):
    form = {
        "program": cast.program.pk,
        "kind": "cosa",
        "name": "Monday circle",
        "keeper": cast.facilitator.pk,
        "case_reference": "",
        "meets_every_days": "7",
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": "",
    }
    form.update(changes)
    return form


def test_a_circle_is_started_from_the_form(cast):
    response = client(cast, "coordinator").post(
        "/circles/new/", _circle_form(cast, case_reference=cast.case.reference.lower())
    )
    circle = Circle.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/circles/{circle.pk}/"
    assert (circle.name, circle.keeper, circle.case) == ("Monday circle", cast.facilitator, cast.case)


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"meets_every_days": "14"}, "meets every week"),
        ({"ends_on": (timezone.localdate() + timedelta(days=30)).isoformat()}, "12 to 18 months"),
        ({"case_reference": "C-ZZZZ-ZZZZ"}, "There is no case with that reference that you run."),
        ({"name": "   "}, "This field is required."),
        ({"keeper": "999999"}, "Select a valid choice."),
    ],
)
def test_a_bad_new_circle_form_shows_the_problem_on_its_field(cast, changes, field_error):
    response = client(cast, "coordinator").post("/circles/new/", _circle_form(cast, **changes))
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert 'class="field has-error"' in response.content.decode()
    assert not Circle.objects.exists()


def test_a_facilitator_is_offered_only_themselves_as_keeper(cast):
    body = client(cast, "facilitator").get("/circles/new/").content.decode()
    assert "Fen Facilitator" in body and "Gil Colleague" not in body
    coordinator = client(cast, "coordinator").get("/circles/new/").content.decode()
    assert "Fen Facilitator" in coordinator and "Gil Colleague" in coordinator


def test_adding_an_unvetted_volunteer_is_refused_in_words(cast):
    circle = new_circle(cast)
    response = client(cast, "coordinator").post(
        f"/circles/{circle.pk}/members/", {"role": "volunteer", "person": cast.volunteer.pk, "name": "Sage"}
    )
    assert response.status_code == 409
    assert (
        "Vee Volunteer cannot join as a volunteer yet: their training is not recorded as completed yet. "
        "Record their vetting first."
    ) in response.content.decode()
    assert not CircleMember.objects.exists()


def test_a_member_is_added_from_the_form_under_a_pseudonym(cast):
    circle = new_circle(cast)
    vet(cast)
    page = client(cast, "coordinator").get(f"/circles/{circle.pk}/members/").content.decode()
    assert "Vee Volunteer (volunteer, vetted)" in page
    assert f"Kestrel (person responsible, {cast.case.reference})" in page
    assert "Wren" not in page, "a person harmed has no place in a circle of support and accountability"
    response = client(cast, "coordinator").post(
        f"/circles/{circle.pk}/members/",
        {"role": "core", "person": cast.responsible.user.pk, "name": "Rowan"},
    )
    assert response.status_code == 302
    assert CircleMember.objects.get().name == "Rowan"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "This field is required."),
        ({"role": "core", "person": "not a number", "name": "Rowan"}, "Select a valid choice."),
        ({"role": "keeper", "person": "", "name": "Rowan"}, "Select a valid choice."),
    ],
)
def test_a_bad_member_form_says_what_is_wrong(cast, form, error):
    circle = new_circle(cast)
    response = client(cast, "coordinator").post(f"/circles/{circle.pk}/members/", form)
    assert response.status_code == 400
    assert error in response.content.decode()


def test_a_staff_name_as_pseudonym_is_refused_on_the_name_field(cast):
    circle = new_circle(cast)
    vet(cast)
    response = client(cast, "coordinator").post(
        f"/circles/{circle.pk}/members/",
        {"role": "volunteer", "person": cast.volunteer.pk, "name": "Vee Volunteer"},
    )
    assert response.status_code == 400
    assert "not the person&#x27;s own name" in response.content.decode()


def test_a_meeting_is_scheduled_from_the_form_and_shown_in_the_viewers_time_zone(cast, place):
    day = timezone.localdate() + timedelta(days=5)
    found = Circle.objects.get()
    members = list(found.members.values_list("pk", flat=True))
    response = client(cast, "facilitator").post(
        f"/circles/{found.pk}/meetings/new/",
        {
            "format": "video",
            "date": day.isoformat(),
            "time": "10:00",
            "time_zone": "UTC",
            "duration_minutes": "90",
            "members": members,
        },
    )
    assert response.status_code == 302
    cast.coordinator.time_zone = "Asia/Kolkata"
    cast.coordinator.save(update_fields=["time_zone"])
    body = client(cast, "coordinator").get(f"/circles/{found.pk}/").content.decode()
    assert "15:30" in body, "10:00 UTC is 15:30 in Kolkata"
    assert "Asia/Kolkata" in body


@pytest.mark.parametrize(
    ("changes", "error", "status"),
    [
        ({"date": "2001-01-01"}, "Choose a date and time in the future.", 400),
        ({"members": []}, "This field is required.", 400),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice.", 400),
        ({"duration_minutes": "5"}, "greater than or equal to 15", 400),
    ],
)
def test_a_bad_meeting_form_says_what_is_wrong(cast, place, changes, error, status):
    found = Circle.objects.get()
    form = {
        "format": "video",
        "date": (timezone.localdate() + timedelta(days=5)).isoformat(),
        "time": "10:00",
        "time_zone": "UTC",
        "duration_minutes": "90",
        "members": list(found.members.values_list("pk", flat=True)),
    }
    form.update(changes)
    before = Meeting.objects.count()
    response = client(cast, "facilitator").post(f"/circles/{found.pk}/meetings/new/", form)
    assert response.status_code == status
    assert error in response.content.decode()
    assert Meeting.objects.count() == before


def test_vetting_is_recorded_from_the_form(cast):
    membership = cast.volunteer.memberships.get()
    page = client(cast, "coordinator").get("/circles/vetting/").content.decode()
    assert "Not yet: their training is not recorded as completed yet" in page
    today = timezone.localdate()
    response = client(cast, "coordinator").post(
        "/circles/vetting/",
        {
            "volunteer": membership.pk,
            "training_completed_on": (today - timedelta(days=10)).isoformat(),
            "background_checked_on": (today - timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 302
    page = client(cast, "coordinator").get("/circles/vetting/").content.decode()
    assert "Not yet" not in page


def test_a_vetting_date_ahead_is_refused_on_its_field(cast):
    membership = cast.volunteer.memberships.get()
    response = client(cast, "coordinator").post(
        "/circles/vetting/",
        {
            "volunteer": membership.pk,
            "background_checked_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "Choose a date that has passed" in response.content.decode()


def test_removing_and_closing_from_the_page(cast, place):
    response = client(cast, "coordinator").post(
        f"/circles/{place.circle_id}/members/{place.member_id}/remove/"
    )
    assert response.status_code == 302
    assert CircleMember.objects.get(pk=place.member_id).left_at is not None
    assert client(cast, "volunteer").get(f"/circles/{place.circle_id}/").status_code == 404, (
        "left: no longer sees it"
    )
    response = client(cast, "facilitator").post(f"/circles/{place.circle_id}/close/")
    assert response.status_code == 302
    assert Meeting.objects.get(pk=place.meeting_id).status == MeetingStatus.CANCELLED
    again = client(cast, "facilitator").post(f"/circles/{place.circle_id}/close/")
    assert again.status_code == 409
    assert "This circle is closed." in again.content.decode()


# Minutes endpoints.


def test_the_minutes_page_is_for_the_writers_and_the_staff(cast, place):
    url = f"/circles/{place.circle_id}/meetings/{place.past_meeting_id}/minutes/"
    for who in EVERYONE:
        expected = 200 if who in {"admin", "coordinator", "facilitator", "volunteer"} else 404
        assert client(cast, who).get(url).status_code == expected, who
    body = client(cast, "volunteer").get(url).content.decode()
    assert "data-minutes-form" in body and 'src="/static/mend/minutes.js"' in body
    assert "Not sent yet" in body


def test_the_recipients_are_the_keeper_and_coordinators_with_keys(cast, place):
    keys = keys_for_readers(cast)
    url = f"/circles/{place.circle_id}/meetings/{place.past_meeting_id}/minutes/recipients/"
    answer = client(cast, "volunteer").get(url).json()
    assert sorted(r["key_id"] for r in answer["recipients"]) == sorted(
        [keys["facilitator"].key_id, keys["coordinator"].key_id]
    )
    assert answer["without_keys"] == []
    for who in ("coordinator", "admin", "responsible", "outsider"):
        assert client(cast, who).get(url).status_code == 404, who


def test_minutes_posted_as_json_are_stored_and_a_concern_alerts_at_once(cast, place):
    keys = keys_for_readers(cast)
    session = Meeting.objects.get(pk=place.past_meeting_id)
    url = f"/circles/{place.circle_id}/meetings/{session.pk}/minutes/"
    envelope = seal_minutes(session, keys["volunteer"])
    body = json.dumps({"envelope": envelope, "concern": True})
    response = client(cast, "volunteer").post(url, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["concern"] is True
    assert StaffAlert.objects.filter(kind="concern", recipient=cast.coordinator).count() == 1
    again = client(cast, "volunteer").post(url, body, content_type="application/json")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    page = client(cast, "coordinator").get(url).content.decode()
    assert 'id="minutes-frame"' in page and "They raise a concern." in page
    assert "data-minutes-form" not in page
    volunteer_page = client(cast, "volunteer").get(url).content.decode()
    assert 'id="minutes-frame"' not in volunteer_page, "sealed to the keeper and coordinators only"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ("[]", 400),
        (json.dumps({"concern": True}), 400),
        (json.dumps({"envelope": {"v": 1}, "concern": False}), 400),
    ],
)
def test_bad_minutes_are_refused_with_a_json_error_and_nothing_written(cast, place, body, status):
    keys_for_readers(cast)
    url = f"/circles/{place.circle_id}/meetings/{place.past_meeting_id}/minutes/"
    response = client(cast, "volunteer").post(url, body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["error"]
    assert not Minutes.objects.exists()


def test_minutes_from_staff_who_do_not_write_them_are_refused(cast, place):
    keys = keys_for_readers(cast)
    session = Meeting.objects.get(pk=place.past_meeting_id)
    url = f"/circles/{place.circle_id}/meetings/{session.pk}/minutes/"
    body = json.dumps({"envelope": seal_minutes(session, keys["coordinator"]), "concern": True})
    response = client(cast, "coordinator").post(url, body, content_type="application/json")
    assert response.status_code == 403
    assert "Only the circle's keeper and its volunteers" in response.json()["error"]
    outsider = give_keys(cast.other_facilitator_same_program)
    body = json.dumps({"envelope": seal_minutes(session, outsider), "concern": True})
    assert (
        client(cast, "other_facilitator_same_program")
        .post(url, body, content_type="application/json")
        .status_code
        == 404
    )
    assert not Minutes.objects.exists()
    assert not StaffAlert.objects.filter(kind="concern").exists()


# Alerts.


def test_an_alert_is_marked_done_by_its_recipient_only(cast, place):
    url = f"/circles/alerts/{place.alert_id}/read/"
    assert client(cast, "facilitator").post(url).status_code == 404
    response = client(cast, "coordinator").post(url)
    assert response.status_code == 302 and response["Location"] == "/"
    assert StaffAlert.objects.get(pk=place.alert_id).read_at is not None
    assert late.alerts_for(cast.coordinator) == []


def test_the_alerts_include_renders_each_alert_with_its_link(cast, place):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = cast.coordinator
    html = render_to_string(
        "circles/_alerts.html", {"staff_alerts": late.alerts_for(cast.coordinator)}, request
    )
    assert "The minutes of the meeting of Tuesday circle" in html
    assert f"/circles/{place.circle_id}/meetings/{place.past_meeting_id}/minutes/" in html
    assert f"/circles/alerts/{place.alert_id}/read/" in html


# Query counts.


def _grow(cast, circle, volunteers: int, meetings: int, start: int):
    members = list(circle.members.filter(left_at__isnull=True))
    for number, user in enumerate(more_volunteers(cast, volunteers, start=start)):
        members.append(add(cast, circle, user, "volunteer", f"Helper {start + number}"))
    for number in range(meetings):
        meeting(cast, circle, members, after=timedelta(days=2 + number))
        past = Meeting.objects.create(
            circle=circle,
            kind="circle",
            format="in_person",
            starts_at=timezone.now() - timedelta(days=3 + number),
            time_zone="UTC",
            created_by=cast.facilitator,
        )
        past.member_attendees.set(members)


def _count(user, url) -> int:
    browser = signed_in(user)
    browser.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "volunteer", "responsible"])
def test_the_circle_page_queries_do_not_grow_with_members_or_meetings(cast, who):
    found = cosa(cast)
    user = getattr(cast, who)
    user = getattr(user, "user", user)
    url = f"/circles/{found.circle.pk}/"
    _grow(cast, found.circle, volunteers=1, meetings=1, start=1)
    few = _count(user, url)
    _grow(cast, found.circle, volunteers=4, meetings=5, start=10)
    assert _count(user, url) == few


def test_the_circle_list_queries_do_not_grow_with_circles(cast):
    cosa(cast)
    few = _count(cast.coordinator, "/circles/")
    for number in range(4):
        new_circle(cast, kind="survivor_peer", name=f"Peers {number}")
    assert _count(cast.coordinator, "/circles/") == few
