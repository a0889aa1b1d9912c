"""The live case channel: only the staff who run the case hear its events, only after commit, and only
while they are still signed in, active and running it."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from mend.asgi import application
from mend.cases import services
from tests.builders import signed_in


def _cookie(client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}" if client else ""


async def _connect(cookie, reference):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/cases/{reference}/",
        headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")],
    )
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
def test_it_tells_the_staff_running_a_case_when_its_stage_changes(cast):
    cookie = _cookie(cast.client("facilitator"))

    async def scenario():
        communicator, connected, _ = await _connect(cookie, cast.case.reference)
        assert connected

        await database_sync_to_async(services.case_transition)(
            actor=cast.facilitator, case=cast.case, action="accept_referral"
        )
        message = await communicator.receive_json_from(timeout=3)
        assert message == {"event": "stage_changed", "stage": "intake"}
        await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "who",
    [
        "outsider",
        "other_program_facilitator",
        "other_facilitator_same_program",
        None,
        # People taking part hear nothing: "someone joined" would tell one side about the other's supporter.
        "harmed",
        "responsible",
        "supporter",
    ],
)
def test_inv_privacy_outsiders_cannot_listen_to_a_case(cast, who):
    cookie = _cookie(cast.client(who) if who else None)

    async def scenario():
        _communicator, connected, code = await _connect(cookie, cast.case.reference)
        assert not connected and code == 4404

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_staff_whose_second_factor_is_not_checked(cast):
    unverified = Client()
    unverified.force_login(cast.facilitator)
    unverified_cookie, verified_cookie = _cookie(unverified), _cookie(signed_in(cast.facilitator))

    async def scenario():
        _communicator, connected, code = await _connect(unverified_cookie, cast.case.reference)
        assert not connected and code == 4404
        _communicator, connected, _ = await _connect(verified_cookie, cast.case.reference)
        assert connected

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_it_answers_frames_from_the_browser_with_a_clear_refusal(cast):
    cookie = _cookie(cast.client("facilitator"))

    async def scenario():
        communicator, connected, _ = await _connect(cookie, cast.case.reference)
        assert connected
        await communicator.send_to(text_data="not json at all")
        assert "only sends updates" in (await communicator.receive_json_from(timeout=3))["error"]
        await communicator.disconnect()

    async_to_sync(scenario)()


async def _closed(communicator) -> int | None:
    try:
        while True:
            output = await communicator.receive_output(timeout=3)
            if output["type"] == "websocket.close":
                return output.get("code")
            assert "stage_changed" not in output.get("text", ""), output
    except TimeoutError:
        return None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ended", ["deactivated", "left_program", "signed_out"])
def test_it_sends_nothing_more_once_access_ended_and_closes(cast, ended):
    from django.contrib.sessions.models import Session

    from mend.accounts.models import Membership, User

    client = cast.client("facilitator")
    cookie = _cookie(client)

    def end():
        if ended == "deactivated":  # in the database, without the service: the check before delivery
            User.objects.filter(pk=cast.facilitator.pk).update(is_active=False)
        elif ended == "left_program":
            Membership.objects.filter(user=cast.facilitator).delete()
        else:
            Session.objects.filter(session_key=client.session.session_key).delete()

    async def scenario():
        communicator, connected, _ = await _connect(cookie, cast.case.reference)
        assert connected
        await database_sync_to_async(end)()
        await database_sync_to_async(services.case_transition)(
            actor=cast.coordinator, case=cast.case, action="accept_referral"
        )
        assert await _closed(communicator) == 4404

    async_to_sync(scenario)()
