"""The live case channel: only people who may see the case hear its events, and only after commit."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from mend.asgi import application
from mend.cases import services
from tests.conftest import signed_in


def _cookie(client) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}" if client else ""


async def _connect(cookie, reference):
    communicator = WebsocketCommunicator(
        application,
        f"/ws/cases/{reference}/",
        headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")],
    )
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.django_db(transaction=True)
def test_it_tells_the_people_in_a_case_when_its_stage_changes(cast):
    cookie = _cookie(cast.client("harmed"))

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
    "who", ["outsider", "other_program_facilitator", "other_facilitator_same_program", None]
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
    cookie = _cookie(cast.client("harmed"))

    async def scenario():
        communicator, connected, _ = await _connect(cookie, cast.case.reference)
        assert connected
        await communicator.send_to(text_data="not json at all")
        assert "only sends updates" in (await communicator.receive_json_from(timeout=3))["error"]
        await communicator.disconnect()

    async_to_sync(scenario)()
