"""Issue 16, privacy in meetings: people harmed by the same breach see each other only when both agreed
(readiness.rules.visible_to). On a meeting's page, in its calendar file and in its video room, another
person harmed who did not agree is "another participant" at most: no pseudonym, no id, no time zone; in the
room the two never connect. Staff see everyone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mend import builders
from mend.meetings import scheduling
from mend.meetings.models import Meeting
from tests.builders import facilitator_place, signed_in
from tests.meetings.meeting_builders import in_two_days
from tests.meetings.test_video_consumer import (  # noqa: F401
    _rooms_of_its_own,
    connect,
    cookie_of,
    join,
    run,
)

pytestmark = pytest.mark.django_db(transaction=True)

FAR_ZONE = "America/Argentina/Ushuaia"


def _breach(cast):
    prepared = builders.prepared_case(
        program=cast.program,
        facilitator=cast.facilitator,
        harmed=("Aspen", "Birch"),
        responsible=("Falcon",),
    )
    prepared.facilitator = facilitator_place(prepared.case, cast.facilitator)
    aspen = prepared.harmed[0]
    aspen.time_zone = FAR_ZONE
    aspen.save(update_fields=["time_zone"])
    return prepared


def _conference(cast, breach, *, starts_at=None, format="in_person") -> Meeting:
    return scheduling.meeting_schedule(
        actor=cast.facilitator,
        case=breach.case,
        kind="conference",
        format=format,
        starts_at=starts_at or in_two_days(),
        time_zone="Pacific/Auckland",
        attendees=[breach.facilitator, *breach.harmed, *breach.responsible],
        duration_minutes=120,
    )


def _page(user, breach, session) -> str:
    response = signed_in(user).get(f"/cases/{breach.case.reference}/sessions/{session.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _agree(*places):
    type(places[0]).objects.filter(pk__in=[p.pk for p in places]).update(seen_by_same_side=True)


def test_inv_privacy_a_person_harmed_does_not_see_another_who_did_not_agree_on_the_meeting_page(cast):
    breach = _breach(cast)
    aspen, birch = breach.harmed
    session = _conference(cast, breach)
    text = _page(birch.user, breach, session)
    assert "Aspen" not in text and FAR_ZONE not in text and f'data-place="{aspen.pk}"' not in text
    assert "another participant" in text and "Falcon" in text
    staff = _page(cast.facilitator, breach, session)
    assert "Aspen" in staff and FAR_ZONE in staff, "staff see everyone"
    _agree(aspen)
    assert "Aspen" not in _page(birch.user, breach, session), "agreeing alone is not enough: both agree"
    _agree(aspen, birch)
    assert "Aspen" in _page(birch.user, breach, session)


def test_inv_privacy_the_calendar_file_names_nobody_else(cast):
    breach = _breach(cast)
    _aspen, birch = breach.harmed
    session = _conference(cast, breach)
    response = signed_in(birch.user).get(
        f"/cases/{breach.case.reference}/sessions/{session.pk}/invitation.ics"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "BEGIN:VCALENDAR" in body
    assert "Aspen" not in body and FAR_ZONE not in body and "Falcon" not in body


def _live(cast, breach) -> Meeting:
    session = _conference(cast, breach, starts_at=timezone.now() + timedelta(hours=1), format="video")
    now = timezone.now()
    Meeting.objects.filter(pk=session.pk).update(
        starts_at=now - timedelta(minutes=5), opened_at=now - timedelta(minutes=1)
    )
    session.refresh_from_db()
    return session


def test_inv_privacy_the_room_page_names_only_the_people_one_may_see(cast):
    breach = _breach(cast)
    aspen, birch = breach.harmed
    session = _live(cast, breach)
    text = signed_in(birch.user).get(f"/meetings/{session.pk}/").content.decode()
    assert "data-room" in text
    assert "Aspen" not in text and f"p{aspen.pk}" not in text and "Falcon" in text
    falcon = signed_in(breach.responsible[0].user).get(f"/meetings/{session.pk}/").content.decode()
    assert "Aspen" in falcon and "Birch" in falcon, "both chose to meet the person responsible"


def test_inv_privacy_two_people_harmed_who_did_not_agree_never_connect_in_the_room(cast):
    breach = _breach(cast)
    aspen, birch = breach.harmed
    falcon = breach.responsible[0]
    session = _live(cast, breach)
    cookies = {
        name: cookie_of(signed_in(place.user))
        for name, place in (("aspen", aspen), ("birch", birch), ("falcon", falcon))
    }
    cookies["facilitator"] = cookie_of(signed_in(cast.facilitator))

    async def scenario():
        await _in_the_room(cookies, session, aspen, birch, falcon)

    run(scenario)


async def _in_the_room(cookies, session, aspen, birch, falcon):
    sockets = {}
    frames = {}
    try:
        for name in ("facilitator", "falcon", "aspen", "birch"):
            sockets[name], connected, _code = await connect(cookies[name], session.pk)
            assert connected
            frames[name] = await join(sockets[name])
        birch_sees = {peer["id"] for peer in frames["birch"]["peers"]}
        assert f"p{aspen.pk}" not in birch_sees and f"p{falcon.pk}" in birch_sees
        falcon_frames = []
        while not await sockets["falcon"].receive_nothing(timeout=0.3):
            falcon_frames.append(await sockets["falcon"].receive_json_from())
        joined = {frame["id"] for frame in falcon_frames if frame["type"] == "joined"}
        assert {f"p{aspen.pk}", f"p{birch.pk}"} <= joined, "both chose to meet the person responsible"
        everything = []
        while not await sockets["birch"].receive_nothing(timeout=0.3):
            everything.append(await sockets["birch"].receive_json_from())
        assert f"p{aspen.pk}" not in str(everything), "no frame to Birch names Aspen's place"
        aspen_frames = []
        while not await sockets["aspen"].receive_nothing(timeout=0.3):
            aspen_frames.append(await sockets["aspen"].receive_json_from())
        assert f"p{birch.pk}" not in str([frames["aspen"], *aspen_frames])
    finally:
        for communicator in sockets.values():
            await communicator.disconnect()


def test_inv_privacy_two_people_harmed_who_both_agreed_see_each_other_in_the_room(cast):
    breach = _breach(cast)
    aspen, birch = breach.harmed
    _agree(aspen, birch)
    session = _live(cast, breach)
    cookies = {name: cookie_of(signed_in(place.user)) for name, place in (("aspen", aspen), ("birch", birch))}
    cookies["facilitator"] = cookie_of(signed_in(cast.facilitator))

    async def scenario():
        sockets, frames = {}, {}
        try:
            for name in ("facilitator", "aspen", "birch"):
                sockets[name], connected, _code = await connect(cookies[name], session.pk)
                assert connected
                frames[name] = await join(sockets[name])
            assert f"p{aspen.pk}" in {peer["id"] for peer in frames["birch"]["peers"]}
        finally:
            for communicator in sockets.values():
                await communicator.disconnect()

    run(scenario)
    text = signed_in(birch.user).get(f"/meetings/{session.pk}/").content.decode()
    assert "Aspen" in text
