"""Who may be in a meeting's video room now (mend.meetings.rules): only invited attendees, only while the
meeting is open and small enough, and, at a case meeting, only while the consent guards hold for them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mend.cases.models import Role
from mend.circles.models import CircleMember
from mend.consent import services as consent_services
from mend.meetings import rules
from mend.meetings.models import Meeting
from tests.builders import join
from tests.meetings.video_builders import circle_meeting, facilitator_place, live_dialogue

pytestmark = pytest.mark.django_db


def everyone(cast):
    return {"facilitator": facilitator_place(cast), "harmed": cast.harmed, "responsible": cast.responsible}


def missing_for_each(session, places) -> dict:
    return {who: rules.signalling_missing(session, place) for who, place in places.items()}


# Who is in the meeting.


def test_it_finds_each_attendee_s_own_place(cast):
    session = live_dialogue(cast)
    for who, place in everyone(cast).items():
        user = cast.facilitator if who == "facilitator" else place.user
        assert rules.meeting_member(session, user) == place, who


@pytest.mark.parametrize(
    "who", ["supporter", "coordinator", "admin", "other_facilitator_same_program", "outsider", "volunteer"]
)
def test_inv_privacy_it_finds_no_place_for_anyone_not_invited(cast, who):
    # The supporter is in the case but not invited; the coordinator and admin run the case from the office.
    session = live_dialogue(cast)
    user = getattr(cast, who)
    user = user.user if hasattr(user, "user") else user
    assert rules.meeting_member(session, user) is None


def test_inv_privacy_it_finds_no_place_for_a_facilitator_no_longer_staff_of_the_program(cast):
    session = live_dialogue(cast)
    cast.facilitator.memberships.all().delete()
    assert rules.meeting_member(session, cast.facilitator) is None


def test_inv_privacy_it_finds_no_circle_place_for_a_volunteer_no_longer_in_the_program(cast):
    session, _core, volunteer = circle_meeting(cast)
    assert rules.meeting_member(session, cast.volunteer) == volunteer
    cast.volunteer.memberships.all().delete()  # their circle place left behind
    assert rules.meeting_member(session, cast.volunteer) is None


def test_inv_privacy_it_finds_no_circle_place_for_a_closed_account(cast):
    session, _core, _volunteer = circle_meeting(cast)
    cast.volunteer.is_active = False
    assert rules.meeting_member(session, cast.volunteer) is None


def test_it_names_parties_by_pseudonym_and_facilitators_by_name(cast):
    session = live_dialogue(cast)
    names = {rules.person_id(p): rules.name_of(session, p) for p in rules.attendees(session)}
    assert names == {
        f"p{facilitator_place(cast).pk}": "Fen Facilitator",
        f"p{cast.harmed.pk}": "Wren",
        f"p{cast.responsible.pk}": "Kestrel",
    }


# When signalling may happen.


def test_it_lets_every_attendee_signal_in_an_open_meeting_while_the_guards_hold(cast):
    session = live_dialogue(cast)
    assert missing_for_each(session, everyone(cast)) == {"facilitator": [], "harmed": [], "responsible": []}


def test_it_waits_for_a_facilitator_to_open_the_meeting_whom_it_lets_open_it_in_its_time(cast):
    session = live_dialogue(cast, opened=False)
    missing = missing_for_each(session, everyone(cast))
    assert missing["facilitator"] == []  # they open it by joining
    assert missing["harmed"] == missing["responsible"] == ["your facilitator to open the meeting"]
    Meeting.objects.filter(pk=session.pk).update(starts_at=timezone.now() + timedelta(hours=2))
    assert rules.signalling_missing(session, facilitator_place(cast)) == [
        "the meeting's time: it can be opened from 15 minutes before its start"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"status": "cancelled"}, "a meeting that is not cancelled"),
        ({"status": "on_hold"}, "the meeting to come off hold"),
        ({"ended_at": timezone.now()}, "a meeting that has not ended"),
        ({"format": "in_person"}, "a meeting by video (this one is in person)"),
    ],
)
def test_it_closes_the_room_of_a_meeting_cancelled_held_ended_or_in_person(cast, change, expected):
    session = live_dialogue(cast)
    Meeting.objects.filter(pk=session.pk).update(**change)
    for who, missing in missing_for_each(session, everyone(cast)).items():
        assert missing == [expected], who


def test_it_closes_a_room_left_open_two_hours_after_the_meeting_s_end(cast):
    session = live_dialogue(cast)
    Meeting.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=3, minutes=1))
    assert rules.signalling_missing(session, cast.harmed) == ["a meeting whose time has not passed"]


def test_it_keeps_mend_s_own_room_to_six_people(cast):
    session = live_dialogue(cast, supporter=True)
    assert rules.signalling_missing(session, cast.harmed) == []
    extra = [
        join(actor=cast.facilitator, case=cast.case, role=Role.COMMUNITY_MEMBER, pseudonym=f"Kowhai {n}")
        for n in range(3)
    ]
    session.attendees.add(*extra)
    assert len(rules.attendees(session)) == 7
    assert rules.too_large(session)
    assert "a meeting of six people or fewer (larger meetings use the program's video link)" in (
        rules.signalling_missing(session, cast.harmed)
    )


# The consent guards, person by person: whoever stops holding leaves, the others may go on.


def test_inv_voluntary_it_gives_a_person_who_withdrew_nothing_and_lets_the_others_go_on(cast):
    session = live_dialogue(cast)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    session.refresh_from_db()
    assert session.status == "scheduled"  # a meeting under way is not cancelled: the person leaves it
    missing = missing_for_each(session, everyone(cast))
    assert missing["harmed"] == ["consent to take part from the person harmed (Wren)"]
    assert missing["facilitator"] == missing["responsible"] == []


def test_inv_voluntary_it_gives_a_person_on_a_break_nothing_and_lets_the_others_go_on(cast):
    session = live_dialogue(cast)
    consent_services.participant_pause(actor=cast.responsible.user, place=cast.responsible)
    session.refresh_from_db()
    assert session.status == "scheduled"
    missing = missing_for_each(session, everyone(cast))
    assert missing["responsible"] == ["the person responsible (Kestrel) to come back from their break"]
    assert missing["facilitator"] == missing["harmed"] == []


def test_inv_survivor_centered_it_ends_contact_when_the_person_harmed_no_longer_wants_to_meet_directly(cast):
    session = live_dialogue(cast)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="direct_meeting")
    missing = missing_for_each(session, everyone(cast))
    assert missing["harmed"] == ["consent of the person harmed (Wren) to meet directly"]
    # Without the other side in the room it is no longer contact: the person responsible may stay with
    # their facilitator.
    assert missing["responsible"] == missing["facilitator"] == []


def test_inv_survivor_centered_it_ends_contact_when_the_person_harmed_chooses_the_facilitator_s_relay(cast):
    session = live_dialogue(cast)
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode="indirect",
        supporters_may_attend=True,
        community_may_attend=False,
        progress_updates="at_end",
    )
    missing = missing_for_each(session, everyone(cast))
    assert missing["harmed"] == ["a meeting that fits the choice of the person harmed (Wren)"]
    assert missing["responsible"] == []


def test_inv_survivor_centered_it_sends_a_supporter_out_when_the_person_harmed_stops_allowing_supporters(
    cast,
):
    session = live_dialogue(cast, supporter=True)
    assert rules.signalling_missing(session, cast.supporter) == []
    consent_services.choices_update(
        actor=cast.harmed.user,
        place=cast.harmed,
        mode="direct",
        supporters_may_attend=False,
        community_may_attend=False,
        progress_updates="at_end",
    )
    assert rules.signalling_missing(session, cast.supporter) == [
        "the person harmed (Wren) to allow the supporter (Alder) to attend"
    ]
    assert rules.signalling_missing(session, cast.harmed) == []


def test_it_sends_out_the_person_harmed_s_supporter_when_the_person_harmed_withdraws(cast):
    # Alone with the person responsible, the supporter would stand for the person harmed without them.
    session = live_dialogue(cast, supporter=True)
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
    assert rules.signalling_missing(session, cast.supporter) != []
    assert rules.signalling_missing(session, cast.responsible) == []


def test_inv_privacy_it_gives_an_uninvited_or_removed_place_nothing(cast):
    session = live_dialogue(cast)
    assert rules.signalling_missing(session, cast.supporter) == ["an invitation to this meeting"]
    cast.responsible.removed_at = timezone.now()
    cast.responsible.save(update_fields=["removed_at"])
    assert rules.signalling_missing(session, cast.responsible) == ["an invitation to this meeting"]


# Whom each person connects with.

FACILITATORS = {"p1"}


@pytest.mark.parametrize(
    ("me", "present", "side", "expected"),
    [
        ("p1", {"p1", "p2", "p3"}, set(), {"p2", "p3"}),
        ("p2", {"p1", "p2", "p3"}, set(), {"p1", "p3"}),
        # Never the parties alone together: without a facilitator in the room, nobody connects.
        ("p2", {"p2", "p3"}, set(), set()),
        # A side room: its people with each other and the facilitator; the main room without them.
        ("p2", {"p1", "p2", "p3", "p4"}, {"p2"}, {"p1"}),
        ("p3", {"p1", "p2", "p3", "p4"}, {"p2"}, {"p1", "p4"}),
        ("p2", {"p1", "p2", "p3", "p4"}, {"p2", "p3"}, {"p1", "p3"}),
        ("p1", {"p1", "p2", "p3", "p4"}, {"p2"}, {"p2", "p3", "p4"}),
    ],
)
def test_it_connects_people_in_the_same_room_while_a_facilitator_is_there(me, present, side, expected):
    assert rules.peers_for(me, FACILITATORS, present, side) == expected


# Circle meetings.


def test_it_lets_a_circle_s_members_and_keeper_in_and_nobody_else(cast):
    session, core, volunteer = circle_meeting(cast)
    assert rules.meeting_member(session, cast.responsible.user) == core
    assert rules.meeting_member(session, cast.volunteer) == volunteer
    assert rules.meeting_member(session, cast.facilitator) == cast.facilitator  # the keeper
    assert rules.facilitates(session, cast.facilitator)
    assert not rules.facilitates(session, core)
    for user in (cast.harmed.user, cast.coordinator, cast.outsider):
        assert rules.meeting_member(session, user) is None
    assert [rules.person_id(p) for p in rules.attendees(session)] == [
        f"k{cast.facilitator.pk}",
        f"m{core.pk}",
        f"m{volunteer.pk}",
    ]
    for person in (core, volunteer, cast.facilitator):
        assert rules.signalling_missing(session, person) == []


def test_it_gives_a_member_who_left_the_circle_nothing(cast):
    session, core, _volunteer = circle_meeting(cast)
    CircleMember.objects.filter(pk=core.pk).update(left_at=timezone.now())
    assert rules.meeting_member(session, cast.responsible.user) is None
    assert rules.signalling_missing(session, core) == ["a place in this circle"]


def test_it_waits_for_the_keeper_to_open_a_circle_meeting(cast):
    session, core, _volunteer = circle_meeting(cast, opened=False)
    assert rules.signalling_missing(session, core) == ["your facilitator to open the meeting"]
    assert rules.signalling_missing(session, cast.facilitator) == []


# The room's page.


ROOM = 'data-room data-state="ready"'


def room_page(client, session):
    return client.get(f"/meetings/{session.pk}/")


def test_it_gives_each_attendee_the_room_with_what_its_script_needs(cast, settings):
    settings.MEND_ICE_SERVERS = [{"urls": "stun:stun.example.org"}]
    session = live_dialogue(cast)
    response = room_page(cast.client("harmed"), session)
    assert response.status_code == 200
    html = response.content.decode()
    assert ROOM in html
    assert f'data-ws="/ws/meetings/{session.pk}/"' in html
    assert f'data-me="p{cast.harmed.pk}"' in html
    assert "&quot;Kestrel&quot;" in html and "&quot;Fen Facilitator&quot;" in html
    assert "stun:stun.example.org" in html and 'data-relay=""' in html
    assert 'src="/static/mend/video.js"' in html and "mend/video.css" in html
    assert "<script>" not in html  # no inline script (CSP)
    assert "data-facilitation" not in html  # the facilitator's controls are theirs only
    facilitator_html = room_page(cast.client("facilitator"), session).content.decode()
    assert "data-facilitation" in facilitator_html and f'value="p{cast.responsible.pk}"' in facilitator_html


def test_it_sends_all_media_through_a_turn_server_when_one_is_set(cast, settings):
    settings.MEND_ICE_SERVERS = [{"urls": ["turns:turn.example.org:443"], "username": "u", "credential": "c"}]
    session = live_dialogue(cast)
    assert 'data-relay="1"' in room_page(cast.client("harmed"), session).content.decode()


@pytest.mark.parametrize(
    "who", ["supporter", "coordinator", "admin", "outsider", "other_program_facilitator"]
)
def test_inv_privacy_it_answers_anyone_not_invited_like_a_meeting_that_does_not_exist(cast, who):
    session = live_dialogue(cast)
    client = cast.client(who)
    assert room_page(client, session).status_code == 404
    assert client.get("/meetings/999999/").status_code == 404


def test_inv_voluntary_it_shows_a_person_who_withdrew_no_room_and_nothing_about_anyone(cast):
    session = live_dialogue(cast)
    consent_services.consent_withdraw(actor=cast.responsible.user, place=cast.responsible, scope="take_part")
    html = room_page(cast.client("responsible"), session).content.decode()
    assert ROOM not in html
    assert "This meeting is not open to you at the moment." in html
    assert "Wren" not in html  # the other side's name is not on it


def test_it_tells_the_facilitator_what_the_meeting_waits_for_and_the_others_only_that_it_is_not_open(cast):
    session = live_dialogue(cast, opened=False)
    Meeting.objects.filter(pk=session.pk).update(starts_at=timezone.now() + timedelta(hours=2))
    facilitator_html = room_page(cast.client("facilitator"), session).content.decode()
    assert "Waiting for: the meeting&#x27;s time: it can be opened from 15 minutes before its start." in (
        facilitator_html
    )
    harmed_html = room_page(cast.client("harmed"), session).content.decode()
    assert (
        "The meeting is not open yet. You will come in as soon as your facilitator opens it." in harmed_html
    )


def test_it_links_a_larger_meeting_to_the_program_s_jitsi_instead_of_mend_s_room(cast):
    session = live_dialogue(cast, supporter=True)
    session.attendees.add(
        *[
            join(actor=cast.facilitator, case=cast.case, role=Role.COMMUNITY_MEMBER, pseudonym=f"Miro {n}")
            for n in range(3)
        ]
    )
    html = room_page(cast.client("harmed"), session).content.decode()
    assert ROOM not in html and "more than Mend's own video room holds" in html
    cast.program.jitsi_url = "https://meet.riverbend.example/circle-room"
    cast.program.save(update_fields=["jitsi_url"])
    html = room_page(cast.client("harmed"), session).content.decode()
    assert 'href="https://meet.riverbend.example/circle-room"' in html and ROOM not in html
    # Below the size, the program's link is not shown: Mend's own room is.
    session.attendees.remove(*session.attendees.filter(role=Role.COMMUNITY_MEMBER))
    html = room_page(cast.client("harmed"), session).content.decode()
    assert "meet.riverbend.example" not in html and ROOM in html


def test_it_answers_a_post_to_the_room_with_method_not_allowed(cast):
    session = live_dialogue(cast)
    assert cast.client("harmed").post(f"/meetings/{session.pk}/").status_code == 405


def test_it_never_records(cast):
    # Nothing in the room's script can record: no MediaRecorder, no canvas capture.
    from django.contrib.staticfiles import finders

    with open(finders.find("mend/video.js")) as handle:
        script = handle.read()
    assert "MediaRecorder" not in script and "captureStream" not in script
