"""The video room's websocket (mend.meetings.consumer): only invited attendees with current consent connect; a
signal goes to its one target; a break and a side room are the facilitator's; bad frames get clear answers;
and a person who withdraws or takes a break is removed at once, their counterparts told to hang up."""

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from mend.asgi import application
from mend.audit.models import AuditEvent
from mend.consent import services as consent_services
from mend.core.realtime import person_group
from mend.meetings import consumer, room_state
from mend.meetings import room as room_services
from mend.meetings.models import Meeting
from tests.builders import signed_in
from tests.meetings.video_builders import circle_meeting, facilitator_place, live_dialogue

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 3
OFFER = {"description": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}
CANDIDATE = {
    "candidate": {
        "candidate": "candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    }
}


@pytest.fixture(autouse=True)
def _rooms_of_its_own(monkeypatch):
    """Who is in which room lives in the cache and news goes through the channel layer, either of which may
    be a Redis shared with other runs: each test keeps its rooms under names of its own."""
    tag = uuid.uuid4().hex[:12]
    monkeypatch.setattr(room_state, "KEY_PREFIX", f"mend:test-{tag}:meeting")
    monkeypatch.setattr(room_state, "GROUP_PREFIX", f"test-{tag}.meeting")


def cookie_of(client: Client | None) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}" if client else ""


async def connect(cookie: str, session_id: int):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/meetings/{session_id}/",
        headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")],
    )
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


async def next_of(communicator, frame_type: str) -> dict:
    """The next frame of this type, skipping others (joined, left and the like arrive as people come)."""
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] == frame_type:
            return frame


async def join(communicator, audio=True, video=True) -> dict:
    await communicator.send_json_to({"type": "join", "audio": audio, "video": video})
    return await next_of(communicator, "peers")


async def drain(communicator) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=0.2):
        frames.append(await communicator.receive_json_from())
    return frames


def run(scenario):
    async_to_sync(scenario)()


@pytest.fixture
def room(cast):
    session = live_dialogue(cast)
    return {
        "session": session,
        "ids": {
            "facilitator": f"p{facilitator_place(cast).pk}",
            "harmed": f"p{cast.harmed.pk}",
            "responsible": f"p{cast.responsible.pk}",
        },
        "cookies": {
            "facilitator": cookie_of(cast.client("facilitator")),
            "harmed": cookie_of(cast.client("harmed")),
            "responsible": cookie_of(cast.client("responsible")),
        },
    }


async def everyone_in(room) -> dict:
    """The facilitator, then the person harmed, then the person responsible join; every frame drained."""
    sockets = {}
    for who in ("facilitator", "harmed", "responsible"):
        communicator, connected, _code = await connect(room["cookies"][who], room["session"].pk)
        assert connected, who
        await join(communicator)
        sockets[who] = communicator
    for communicator in sockets.values():
        await drain(communicator)
    return sockets


async def leave_all(sockets: dict) -> None:
    for communicator in sockets.values():
        await communicator.disconnect()


# Who may connect.


@pytest.mark.parametrize(
    "who",
    [
        None,
        "outsider",
        "supporter",
        "coordinator",
        "admin",
        "other_facilitator_same_program",
        "other_program_facilitator",
        "volunteer",
    ],
)
def test_inv_privacy_it_refuses_anyone_not_invited_like_a_meeting_that_does_not_exist(cast, room, who):
    # The supporter is in the case but not invited; the coordinator and admin run the case from the office.
    cookie = cookie_of(cast.client(who) if who else None)

    async def scenario():
        _communicator, connected, code = await connect(cookie, room["session"].pk)
        assert (connected, code) == (False, 4404)
        _communicator, connected, code = await connect(room["cookies"]["harmed"], 999_999)
        assert (connected, code) == (False, 4404)

    run(scenario)


def test_it_refuses_staff_whose_second_factor_is_not_checked(cast, room):
    unverified = Client()
    unverified.force_login(cast.facilitator)

    async def scenario():
        _communicator, connected, code = await connect(cookie_of(unverified), room["session"].pk)
        assert (connected, code) == (False, 4404)

    run(scenario)


def test_inv_voluntary_it_gives_a_person_who_withdrew_nothing(cast, room):
    consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")

    async def scenario():
        communicator, connected, code = await connect(room["cookies"]["harmed"], room["session"].pk)
        assert (connected, code) == (False, 4404)
        # And the others, in the room, hear nothing of them.
        facilitator, connected, _code = await connect(room["cookies"]["facilitator"], room["session"].pk)
        assert connected
        assert (await join(facilitator))["peers"] == []
        await facilitator.disconnect()

    run(scenario)


def test_inv_voluntary_it_gives_a_person_on_a_break_nothing(cast, room):
    consent_services.participant_pause(actor=cast.responsible.user, place=cast.responsible)

    async def scenario():
        _communicator, connected, code = await connect(room["cookies"]["responsible"], room["session"].pk)
        assert (connected, code) == (False, 4404)

    run(scenario)


# Joining and signalling.


def test_it_tells_each_person_who_is_there_and_the_others_who_came(room):
    ids = room["ids"]

    async def scenario():
        facilitator, _, _ = await connect(room["cookies"]["facilitator"], room["session"].pk)
        first = await join(facilitator)
        assert first["me"] == ids["facilitator"] and first["peers"] == []
        assert first["break"] is False and first["side"] == []
        harmed, _, _ = await connect(room["cookies"]["harmed"], room["session"].pk)
        peers = await join(harmed, video=False)
        assert [p["id"] for p in peers["peers"]] == [ids["facilitator"]]
        came = await next_of(facilitator, "joined")
        assert came == {
            "type": "joined",
            "id": ids["harmed"],
            "nonce": peers["nonce"],
            "audio": True,
            "video": False,
        }
        assert "channel" not in json.dumps(peers)  # nobody learns another's socket
        await leave_all({"f": facilitator, "h": harmed})

    run(scenario)


def test_it_relays_a_signal_to_its_one_target_only(room):
    ids = room["ids"]

    async def scenario():
        sockets = await everyone_in(room)
        await sockets["harmed"].send_json_to({"type": "signal", "to": ids["responsible"], "data": OFFER})
        relayed = await sockets["responsible"].receive_json_from(timeout=WAIT)
        assert relayed["type"] == "signal" and relayed["from"] == ids["harmed"] and relayed["data"] == OFFER
        await sockets["responsible"].send_json_to({"type": "signal", "to": ids["harmed"], "data": CANDIDATE})
        assert (await sockets["harmed"].receive_json_from(timeout=WAIT))["data"] == CANDIDATE
        assert await sockets["facilitator"].receive_nothing(timeout=0.3)
        await leave_all(sockets)

    run(scenario)


def test_it_refuses_to_relay_to_someone_not_in_the_room(cast, room):
    ids = room["ids"]

    async def scenario():
        facilitator, _, _ = await connect(room["cookies"]["facilitator"], room["session"].pk)
        await join(facilitator)
        await facilitator.send_json_to({"type": "signal", "to": ids["harmed"], "data": OFFER})
        refusal = await next_of(facilitator, "error")
        assert refusal == {
            "type": "error",
            "error": "That person is not connected with you.",
            "to": ids["harmed"],
        }
        await facilitator.disconnect()

    run(scenario)


BAD_FRAMES = [
    ("not json", "Send a JSON object whose type is one of"),
    ("[1, 2]", "Send a JSON object whose type is one of"),
    ('{"type": "dance"}', "Send a JSON object whose type is one of"),
    ('{"type": "join", "audio": "yes"}', "join.audio and join.video must be true or false."),
    ('{"type": "signal", "to": 7, "data": {}}', "signal.to must be the id of a person in the room."),
    ('{"type": "signal", "to": "p1", "data": []}', "signal.data must hold one description or one candidate."),
    ('{"type": "signal", "to": "p1", "data": {"x": 1}}', "signal.data must hold one description or one"),
    (
        '{"type": "signal", "to": "p1", "data": {"description": {"type": "rollback", "sdp": ""}}}',
        "signal.data.description must be an offer or an answer with its sdp.",
    ),
    (
        '{"type": "signal", "to": "p1", "data": {"description": {"type": "offer", "sdp": "", "x": 1}}}',
        "signal.data.description must be an offer or an answer with its sdp.",
    ),
    (
        '{"type": "signal", "to": "p1", "data": {"candidate": {"candidate": 5}}}',
        "signal.data.candidate must be an ICE candidate.",
    ),
    (
        '{"type": "signal", "to": "p1", "data": {"candidate": {"candidate": "c", "sdpMLineIndex": true}}}',
        "signal.data.candidate must be an ICE candidate.",
    ),
    (
        '{"type": "signal", "to": "p1", "data": {"candidate": {"candidate": "c", "evil": "x"}}}',
        "signal.data.candidate must be an ICE candidate.",
    ),
    (
        json.dumps(
            {"type": "signal", "to": "p1", "data": {"description": {"type": "offer", "sdp": "x" * 66000}}}
        ),
        "This signal is too large.",
    ),
    ("[" * 100_000, "Send a JSON object of at most 64 KiB."),
    ("[" * 50_000 + "]" * 50_000, "Send a JSON object of at most 64 KiB."),
    ("[" * 30_000 + "]" * 30_000, "Send a JSON object whose type is one of"),
    ('{"type": "caucus", "people": "everyone"}', "caucus.people must list the ids"),
    ('{"type": "caucus", "people": ["p1", "p1"]}', "caucus.people must list the ids"),
    ('{"type": "media", "audio": 1, "video": true}', "media.audio and media.video must be true or false."),
]


def test_it_answers_bad_frames_with_an_error_and_carries_on(room):
    async def scenario():
        facilitator, _, _ = await connect(room["cookies"]["facilitator"], room["session"].pk)
        await facilitator.send_json_to({"type": "signal", "to": "p1", "data": OFFER})
        assert (await facilitator.receive_json_from(timeout=WAIT))["error"] == "Join the meeting first."
        await join(facilitator)
        for text, error in BAD_FRAMES:
            await facilitator.send_to(text_data=text)
            frame = await facilitator.receive_json_from(timeout=WAIT)
            assert frame["type"] == "error" and frame["error"].startswith(error), (text[:80], frame)
        await facilitator.send_to(bytes_data=b"\x00\x01")
        assert (await facilitator.receive_json_from(timeout=WAIT))["type"] == "error"
        # Still in the room, still answering; joining again is answered as the first time.
        await facilitator.send_json_to({"type": "join"})
        assert (await facilitator.receive_json_from(timeout=WAIT))["type"] == "peers"
        await facilitator.disconnect()

    run(scenario)


def test_it_slows_down_a_flood_of_frames(room):
    async def scenario():
        harmed, _, _ = await connect(room["cookies"]["harmed"], room["session"].pk)
        for _ in range(consumer.BURST + 20):
            await harmed.send_to(text_data="{}")
        errors = [f["error"] for f in await drain(harmed)]
        assert "Too many messages at once. Please wait a moment." in errors
        await harmed.disconnect()

    run(scenario)


# The facilitator's controls.


def test_it_lets_only_the_facilitator_pause_and_everyone_gets_the_break(room):
    async def scenario():
        sockets = await everyone_in(room)
        for who in ("harmed", "responsible"):
            for frame in (
                {"type": "pause"},
                {"type": "caucus", "people": [room["ids"]["harmed"]]},
                {"type": "end"},
            ):
                await sockets[who].send_json_to(frame)
                assert (await sockets[who].receive_json_from(timeout=WAIT))[
                    "error"
                ] == "Only the facilitator can do this."
        await sockets["facilitator"].send_json_to({"type": "pause"})
        for communicator in sockets.values():
            assert await next_of(communicator, "break") == {"type": "break", "on": True}
        assert (await database_sync_to_async(Meeting.objects.get)(pk=room["session"].pk)).on_break
        await sockets["facilitator"].send_json_to({"type": "pause"})
        assert (await next_of(sockets["facilitator"], "error"))["error"] == "The meeting is already paused."
        # Someone joining during the break learns of it at once.
        await sockets["responsible"].disconnect()
        again, _, _ = await connect(room["cookies"]["responsible"], room["session"].pk)
        assert (await join(again))["break"] is True
        await sockets["facilitator"].send_json_to({"type": "resume"})
        for communicator in (sockets["facilitator"], sockets["harmed"], again):
            assert await next_of(communicator, "break") == {"type": "break", "on": False}
        codes = await database_sync_to_async(
            lambda: list(
                AuditEvent.objects.filter(code__startswith="session.break").values_list("code", flat=True)
            )
        )()
        assert codes == ["session.break_started", "session.break_ended"]
        await leave_all({"f": sockets["facilitator"], "h": sockets["harmed"], "r": again})

    run(scenario)


def test_it_separates_the_side_room_and_brings_everyone_back(room):
    ids = room["ids"]

    async def scenario():
        sockets = await everyone_in(room)
        await sockets["facilitator"].send_json_to({"type": "caucus", "people": [ids["harmed"]]})
        # The main room and the side room drop their connections to each other...
        assert await next_of(sockets["responsible"], "left") == {"type": "left", "id": ids["harmed"]}
        assert await next_of(sockets["harmed"], "left") == {"type": "left", "id": ids["responsible"]}
        for communicator in sockets.values():
            assert await next_of(communicator, "room") == {"type": "room", "side": [ids["harmed"]]}
        # ...while the facilitator stays connected with both.
        assert [f for f in await drain(sockets["facilitator"]) if f["type"] in ("left", "joined")] == []
        await sockets["responsible"].send_json_to({"type": "signal", "to": ids["harmed"], "data": OFFER})
        assert (await next_of(sockets["responsible"], "error"))[
            "error"
        ] == "That person is not connected with you."
        assert await sockets["harmed"].receive_nothing(timeout=0.3)
        await sockets["facilitator"].send_json_to({"type": "signal", "to": ids["harmed"], "data": OFFER})
        assert (await next_of(sockets["harmed"], "signal"))["from"] == ids["facilitator"]
        await sockets["facilitator"].send_json_to({"type": "signal", "to": ids["responsible"], "data": OFFER})
        assert (await next_of(sockets["responsible"], "signal"))["from"] == ids["facilitator"]

        await sockets["facilitator"].send_json_to({"type": "rejoin"})
        assert (await next_of(sockets["responsible"], "joined"))["id"] == ids["harmed"]
        assert (await next_of(sockets["harmed"], "joined"))["id"] == ids["responsible"]
        assert (await next_of(sockets["harmed"], "room"))["side"] == []
        await sockets["responsible"].send_json_to({"type": "signal", "to": ids["harmed"], "data": OFFER})
        assert (await next_of(sockets["harmed"], "signal"))["from"] == ids["responsible"]
        await leave_all(sockets)

    run(scenario)


def test_it_refuses_a_side_room_of_facilitators_or_strangers(room):
    async def scenario():
        facilitator, _, _ = await connect(room["cookies"]["facilitator"], room["session"].pk)
        await join(facilitator)
        for people in (
            [room["ids"]["facilitator"]],
            ["p999999"],
            [room["ids"]["harmed"], room["ids"]["responsible"]],
        ):
            await facilitator.send_json_to({"type": "caucus", "people": people})
            assert (await next_of(facilitator, "error"))["error"].startswith(
                ("Choose people", "Leave at least")
            )
        await facilitator.disconnect()

    run(scenario)


def test_it_never_leaves_the_parties_connected_without_a_facilitator(room):
    ids = room["ids"]

    async def scenario():
        sockets = await everyone_in(room)
        await sockets["facilitator"].send_json_to({"type": "leave"})
        for who, other in (("harmed", "responsible"), ("responsible", "harmed")):
            gone = {(await next_of(sockets[who], "left"))["id"] for _ in range(2)}
            assert gone == {ids["facilitator"], ids[other]}
        await sockets["harmed"].send_json_to({"type": "signal", "to": ids["responsible"], "data": OFFER})
        assert (await next_of(sockets["harmed"], "error"))[
            "error"
        ] == "That person is not connected with you."
        await leave_all({"h": sockets["harmed"], "r": sockets["responsible"]})

    run(scenario)


def test_it_waits_for_the_facilitator_whose_joining_opens_the_meeting(cast):
    session = live_dialogue(cast, opened=False)
    harmed_cookie, facilitator_cookie = (
        cookie_of(cast.client("harmed")),
        cookie_of(cast.client("facilitator")),
    )
    facilitator_id = f"p{facilitator_place(cast).pk}"

    async def scenario():
        harmed, connected, _ = await connect(harmed_cookie, session.pk)
        assert connected
        await harmed.send_json_to({"type": "join", "audio": True, "video": True})
        waiting = await harmed.receive_json_from(timeout=WAIT)
        assert waiting == {
            "type": "waiting",
            "message": "The meeting is not open yet. You will come in as soon as your facilitator opens it.",
        }
        facilitator, _, _ = await connect(facilitator_cookie, session.pk)
        assert (await join(facilitator))["peers"] == []
        assert await next_of(harmed, "opened") == {"type": "opened"}
        assert [p["id"] for p in (await join(harmed))["peers"]] == [facilitator_id]
        await leave_all({"h": harmed, "f": facilitator})

    run(scenario)
    session.refresh_from_db()
    assert session.opened_at is not None
    assert AuditEvent.objects.filter(code="session.opened", target_id=str(session.pk)).count() == 1


def test_it_ends_the_meeting_for_everyone_when_the_facilitator_ends_it(room):
    async def scenario():
        sockets = await everyone_in(room)
        await sockets["facilitator"].send_json_to({"type": "end"})
        for communicator in sockets.values():
            closed = await next_of(communicator, "closed")
            assert closed["reason"] == "ended"
            assert (await communicator.receive_output(timeout=WAIT))["code"] == 1000

    run(scenario)
    room["session"].refresh_from_db()
    assert room["session"].ended_at is not None


# Removal at once: withdrawal, a break, signing out.


@pytest.mark.parametrize("how", ["withdraws", "takes a break"])
def test_inv_voluntary_it_removes_a_person_at_once_and_the_others_hang_up_on_them(cast, room, how):
    ids = room["ids"]

    def act():
        if how == "withdraws":
            consent_services.consent_withdraw(actor=cast.harmed.user, place=cast.harmed, scope="take_part")
        else:
            consent_services.participant_pause(actor=cast.harmed.user, place=cast.harmed)

    async def scenario():
        sockets = await everyone_in(room)
        await database_sync_to_async(act)()
        closed = await sockets["harmed"].receive_json_from(timeout=WAIT)
        assert closed == {"type": "closed", "reason": "removed", "message": "You have left the meeting."}
        assert (await sockets["harmed"].receive_output(timeout=WAIT)) == {
            "type": "websocket.close",
            "code": 4404,
        }
        for who in ("facilitator", "responsible"):
            assert await next_of(sockets[who], "left") == {"type": "left", "id": ids["harmed"]}
        # The others go on: they still reach each other.
        await sockets["responsible"].send_json_to({"type": "signal", "to": ids["facilitator"], "data": OFFER})
        assert (await next_of(sockets["facilitator"], "signal"))["from"] == ids["responsible"]
        # And the person who left cannot come back in.
        _c, connected, code = await connect(room["cookies"]["harmed"], room["session"].pk)
        assert (connected, code) == (False, 4404)
        await leave_all({"f": sockets["facilitator"], "r": sockets["responsible"]})

    run(scenario)
    room["session"].refresh_from_db()
    assert room["session"].status == "scheduled"  # a meeting under way is not cancelled; the person left it


def test_it_removes_a_person_when_a_recheck_finds_their_consent_narrowed(cast, room):
    async def scenario():
        sockets = await everyone_in(room)
        await database_sync_to_async(consent_services.consent_withdraw)(
            actor=cast.harmed.user, place=cast.harmed, scope="direct_meeting"
        )
        await database_sync_to_async(room_services.meetings_recheck)(case=cast.case)
        assert (await next_of(sockets["harmed"], "closed"))["reason"] == "removed"
        assert (await next_of(sockets["responsible"], "left"))["id"] == room["ids"]["harmed"]
        await leave_all({"f": sockets["facilitator"], "r": sockets["responsible"]})

    run(scenario)


def test_it_closes_the_socket_when_the_person_signs_out(cast, room):
    async def scenario():
        sockets = await everyone_in(room)
        await get_channel_layer().group_send(person_group(cast.harmed.user.pk), {"type": "person.signed_out"})
        assert (await next_of(sockets["harmed"], "closed"))["reason"] == "signed_out"
        assert (await next_of(sockets["facilitator"], "left"))["id"] == room["ids"]["harmed"]
        await leave_all({"f": sockets["facilitator"], "r": sockets["responsible"]})

    run(scenario)


def test_it_keeps_one_window_per_person(room):
    async def scenario():
        first, _, _ = await connect(room["cookies"]["harmed"], room["session"].pk)
        await join(first)
        facilitator, _, _ = await connect(room["cookies"]["facilitator"], room["session"].pk)
        await join(facilitator)
        second, _, _ = await connect(room["cookies"]["harmed"], room["session"].pk)
        peers = await join(second)
        assert (await next_of(first, "closed"))["reason"] == "replaced"
        # The facilitator hangs up on the old window and connects to the new one.
        assert (await next_of(facilitator, "joined"))["nonce"] == peers["nonce"]
        await leave_all({"f": facilitator, "s": second})

    run(scenario)


# A circle meeting.


def test_it_runs_a_circle_meeting_with_its_keeper(cast):
    session, core, volunteer = circle_meeting(cast)
    cookies = [cookie_of(signed_in(u)) for u in (cast.facilitator, cast.responsible.user, cast.volunteer)]
    coordinator = cookie_of(signed_in(cast.coordinator))

    async def scenario():
        sockets = []
        for cookie in cookies:
            communicator, connected, _ = await connect(cookie, session.pk)
            assert connected
            sockets.append(communicator)
            await join(communicator)
        _c, connected, code = await connect(coordinator, session.pk)
        assert (connected, code) == (False, 4404)
        await sockets[0].send_json_to({"type": "caucus", "people": [f"m{core.pk}"]})
        assert (await next_of(sockets[2], "left"))["id"] == f"m{core.pk}"
        await sockets[0].send_json_to({"type": "pause"})
        assert (await next_of(sockets[1], "break"))["on"] is True
        await sockets[0].send_json_to({"type": "end"})
        for communicator in sockets:
            assert (await next_of(communicator, "closed"))["reason"] == "ended"

    run(scenario)
    session.refresh_from_db()
    assert session.ended_at is not None and not session.on_break
    codes = set(AuditEvent.objects.filter(target_id=str(session.pk)).values_list("code", flat=True))
    assert {"session.side_room", "session.break_started", "session.ended"} <= codes


def test_only_the_keeper_ends_a_circle_meeting_even_when_the_service_is_called_directly(cast):
    """The one ending service checks who ends a circle meeting itself, as opening does, rather than trusting
    every caller to have checked first."""
    from mend.core.errors import DomainError
    from mend.meetings import services as meeting_services

    session, core, volunteer = circle_meeting(cast)
    for person in (None, volunteer):
        with pytest.raises(DomainError, match="Only the facilitator"):
            meeting_services.meeting_end(actor=cast.facilitator, session=session, person=person)
    session.refresh_from_db()
    assert session.ended_at is None
