"""Each attendee sees a meeting on their own clock, across the daylight-saving changes of both hemispheres:
attendees in Auckland, Madrid and New York; meetings scheduled in each of those zones just before and just
after its own change (Europe 28 March 2027, United States 14 March 2027, New Zealand 4 April 2027).

The expected times are worked out by hand from the rules, not by the code under test:
Madrid CET +1 / CEST +2 from 28 March 01:00 UTC; New York EST -5 / EDT -4 from 14 March 07:00 UTC;
Auckland NZDT +13 / NZST +12 from 3 April 14:00 UTC."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from mend.cases.models import Participant
from mend.meetings.clock import local_time
from mend.meetings.models import Meeting
from tests.builders import signed_in
from tests.meetings.meeting_builders import facilitator_place

AUCKLAND, MADRID, NEW_YORK = "Pacific/Auckland", "Europe/Madrid", "America/New_York"

# (scheduled in, start in UTC, what Auckland, Madrid and New York each see)
MEETINGS = {
    "Madrid, the day before Europe's change": (
        MADRID,
        datetime(2027, 3, 27, 9, 0, tzinfo=UTC),  # 10:00 CET
        {
            AUCKLAND: "Saturday 27 March 2027, 22:00",
            MADRID: "Saturday 27 March 2027, 10:00",
            NEW_YORK: "Saturday 27 March 2027, 05:00",
        },
    ),
    "Madrid, the day of Europe's change": (
        MADRID,
        datetime(2027, 3, 28, 8, 0, tzinfo=UTC),  # 10:00 CEST
        {
            AUCKLAND: "Sunday 28 March 2027, 21:00",
            MADRID: "Sunday 28 March 2027, 10:00",
            NEW_YORK: "Sunday 28 March 2027, 04:00",
        },
    ),
    "New York, the day before the US change": (
        NEW_YORK,
        datetime(2027, 3, 13, 14, 0, tzinfo=UTC),  # 09:00 EST
        {
            AUCKLAND: "Sunday 14 March 2027, 03:00",
            MADRID: "Saturday 13 March 2027, 15:00",
            NEW_YORK: "Saturday 13 March 2027, 09:00",
        },
    ),
    "New York, the day after the US change": (
        NEW_YORK,
        datetime(2027, 3, 15, 13, 0, tzinfo=UTC),  # 09:00 EDT
        {
            AUCKLAND: "Tuesday 16 March 2027, 02:00",
            MADRID: "Monday 15 March 2027, 14:00",
            NEW_YORK: "Monday 15 March 2027, 09:00",
        },
    ),
    "Auckland, the day before New Zealand's change": (
        AUCKLAND,
        datetime(2027, 4, 2, 21, 0, tzinfo=UTC),  # 10:00 NZDT
        {
            AUCKLAND: "Saturday 3 April 2027, 10:00",
            MADRID: "Friday 2 April 2027, 23:00",
            NEW_YORK: "Friday 2 April 2027, 17:00",
        },
    ),
    "Auckland, the day after New Zealand's change": (
        AUCKLAND,
        datetime(2027, 4, 4, 22, 0, tzinfo=UTC),  # 10:00 NZST
        {
            AUCKLAND: "Monday 5 April 2027, 10:00",
            MADRID: "Monday 5 April 2027, 00:00",
            NEW_YORK: "Sunday 4 April 2027, 18:00",
        },
    ),
}


@pytest.fixture
def attendees(cast):
    """The person harmed in Auckland, the person responsible in Madrid, the supporter in New York."""
    zones = {cast.harmed.pk: AUCKLAND, cast.responsible.pk: MADRID, cast.supporter.pk: NEW_YORK}
    for pk, name in zones.items():
        Participant.objects.filter(pk=pk).update(time_zone=name)
    return {AUCKLAND: cast.harmed, MADRID: cast.responsible, NEW_YORK: cast.supporter}


def _meeting(cast, zone: str, starts_at: datetime) -> Meeting:
    # Made directly: the guards are not the subject here, only the clocks.
    session = Meeting.objects.create(
        case=cast.case,
        kind="conference",
        format="video",
        starts_at=starts_at,
        time_zone=zone,
        duration_minutes=60,
        created_by=cast.facilitator,
    )
    session.attendees.set(
        [facilitator_place(cast.case, cast.facilitator), cast.harmed, cast.responsible, cast.supporter]
    )
    return session


def _page(user, session) -> str:
    # Viewed a month before: the meetings are still ahead, whatever today's date is.
    with time_machine.travel(session.starts_at - timedelta(days=30), tick=False):
        response = signed_in(user).get(f"/cases/{session.case.reference}/sessions/{session.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("label", list(MEETINGS))
def test_each_attendee_sees_their_own_local_time(cast, attendees, label):
    zone, starts_at, expected = MEETINGS[label]
    session = _meeting(cast, zone, starts_at)
    for place_zone, place in attendees.items():
        page = _page(place.user, session)
        mine = page.split('data-testid="my-time"', 1)[1].split("</p>", 1)[0]
        assert expected[place_zone] in mine, (label, place_zone)
        assert f"your time ({place_zone})" in mine
        for other_time in expected.values():
            if other_time != expected[place_zone]:
                assert other_time not in page, "an attendee sees only their own clock, not where others are"


@pytest.mark.parametrize("label", list(MEETINGS))
def test_staff_see_every_attendee_local_time(cast, attendees, label):
    zone, starts_at, expected = MEETINGS[label]
    session = _meeting(cast, zone, starts_at)
    page = _page(cast.coordinator, session)
    table = page.split('data-testid="attendee-times"', 1)[1].split("</table>", 1)[0]
    for place_zone, place in attendees.items():
        row = table.split(f'data-place="{place.pk}"', 1)[1].split("</tr>", 1)[0]
        assert expected[place_zone] in row and place_zone in row, (label, place_zone)
    assert f"Scheduled for {expected[zone]} ({zone})" in page


def test_staff_without_a_place_see_their_own_clock(cast, attendees):
    _zone, starts_at, expected = MEETINGS["Madrid, the day of Europe's change"]
    session = _meeting(cast, MADRID, starts_at)
    type(cast.coordinator).objects.filter(pk=cast.coordinator.pk).update(time_zone=NEW_YORK)
    cast.coordinator.refresh_from_db()
    mine = _page(cast.coordinator, session).split('data-testid="my-time"', 1)[1].split("</p>", 1)[0]
    assert expected[NEW_YORK] in mine


def test_the_hand_worked_times_agree_with_the_time_zone_rules():
    """A check of the table itself, so that a typo in it cannot pass as a bug or hide one."""
    for _label, (_zone, starts_at, expected) in MEETINGS.items():
        for zone, text in expected.items():
            assert local_time(starts_at, zone) == text


@pytest.mark.parametrize(
    ("label", "at_night"),
    [
        ("Madrid, the day before Europe's change", {AUCKLAND, NEW_YORK}),  # 22:00 and 05:00
        ("Madrid, the day of Europe's change", {NEW_YORK}),  # 21:00 to 22:00 ends before the night
    ],
)
def test_staff_are_told_when_a_meeting_falls_at_night_for_someone(cast, attendees, label, at_night):
    """Issue 18: a meeting between 22:00 and 07:00 on someone's own clock warns whoever schedules it."""
    zone, starts_at, _expected = MEETINGS[label]
    session = _meeting(cast, zone, starts_at)
    page = _page(cast.coordinator, session)
    table = page.split('data-testid="attendee-times"', 1)[1].split("</table>", 1)[0]
    flagged = {
        place_zone
        for place_zone, place in attendees.items()
        if "data-at-night" in table.split(f'data-place="{place.pk}"', 1)[1].split("</tr>", 1)[0]
    }
    assert flagged == at_night
    assert 'data-testid="at-night"' in page
    # The people attending see only their own clock, and no word about anyone's night.
    assert "data-at-night" not in _page(cast.harmed.user, session)
