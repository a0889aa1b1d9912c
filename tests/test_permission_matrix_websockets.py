"""Invariant 4 (privacy), live channels: who may open each websocket. The rest of the matrix is in
tests/test_permission_matrix.py; these rows live apart because they commit (`transaction=True`, since a
consumer's database calls close connections that a test transaction would need), which that module's
shared, rolled-back cast cannot host.
"""

# The matrix is a table, one column per role, wider than a line.
# ruff: noqa: E501

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from mend.asgi import application
from mend.routing import websocket_urlpatterns
from tests.test_permission_matrix import (
    MISSING_CONVERSATION,
    MISSING_REFERENCE,
    ROLES,
    build_extra,
    client_for,
)


@pytest.fixture
def extra(cast):
    return build_extra(cast)


# Websockets: who may open each live channel. True: connected; False: closed with 4404, as for a channel
# that does not exist.
WEBSOCKET_CALLS = {
    "ws/cases/<str:reference>/": lambda c, x: f"/ws/cases/{c.case.reference}/",
    "ws/conversations/<str:public_id>/": lambda c, x: f"/ws/conversations/{x.conversation_id}/",
    "ws/meetings/<int:session_id>/": lambda c, x: f"/ws/meetings/{x.session_id}/",
}
WEBSOCKET_MISSING = {
    "ws/cases/<str:reference>/": f"/ws/cases/{MISSING_REFERENCE}/",
    "ws/conversations/<str:public_id>/": f"/ws/conversations/{MISSING_CONVERSATION}/",
    "ws/meetings/<int:session_id>/": "/ws/meetings/999999999/",
}
# The former member and the closed account are co-facilitators of the case (tests/test_permission_matrix.py):
# one left the program with their place left behind, the other's account is deactivated. Neither opens
# anything. The case's live events are for the staff who run it only: an event such as "someone joined" would
# tell one side about the other.
# fmt: off
WEBSOCKET_MATRIX = {
    #     anon     admin    coord    fac      fac2     vol      other    harmed   resp     supp     out      former   closed
    "ws/cases/<str:reference>/":
        (False,   True,    True,    True,    False,   False,   False,   False,   False,   False,   False,   False,   False),
    "ws/conversations/<str:public_id>/":  # the person harmed's conversation with their facilitator
        (False,   False,   False,   True,    False,   False,   False,   True,    False,   False,   False,   False,   False),
    "ws/meetings/<int:session_id>/":  # the meeting in three days: its facilitator may open it early
        (False,   False,   False,   True,    False,   False,   False,   False,   False,   False,   False,   False,   False),
}
# fmt: on


def test_inv_privacy_it_has_a_row_for_every_websocket_route():
    assert set(WEBSOCKET_MATRIX) == {str(pattern.pattern) for pattern in websocket_urlpatterns}
    assert set(WEBSOCKET_CALLS) == set(WEBSOCKET_MATRIX) == set(WEBSOCKET_MISSING)


async def _opens(path: str, cookie: str) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")]
    )
    connected, code = await communicator.connect(timeout=10)
    if connected:
        await communicator.disconnect()
    return connected, code


def _cookie(client: Client) -> str:
    key = client.session.session_key
    return f"{settings.SESSION_COOKIE_NAME}={key}" if key else ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("route", "role", "expected"),
    [
        pytest.param(route, role, expected, id=f"{route}-{role}".replace("/", "_"))
        for route, row in WEBSOCKET_MATRIX.items()
        for role, expected in zip(ROLES, row, strict=True)
    ],
)
def test_inv_privacy_it_lets_each_role_open_each_websocket_as_the_matrix_says(
    cast, extra, route, role, expected
):
    cookie = _cookie(client_for(cast, role))
    connected, code = async_to_sync(_opens)(WEBSOCKET_CALLS[route](cast, extra), cookie)
    assert connected is expected, f"{route} as {role}: connected={connected}, code={code}"
    if not expected:
        assert code == 4404
        assert async_to_sync(_opens)(WEBSOCKET_MISSING[route], cookie) == (False, 4404)


@pytest.mark.django_db(transaction=True)
def test_inv_privacy_a_second_person_harmed_opens_only_her_own_channels(cast, extra):
    """Many people on a side (issue 16): a second person harmed in the case, who did not agree to be seen,
    opens her own conversation with the facilitator, and neither the first person harmed's conversation nor
    the meeting she is not invited to: the same refusal as for a channel that does not exist."""
    from mend.dialogue.models import Conversation
    from mend.dialogue.services import conversation_open
    from tests.builders import signed_in
    from tests.test_permission_matrix import second_person_harmed

    yarrow = second_person_harmed(cast)
    cookie = _cookie(signed_in(yarrow.user))
    own = conversation_open(case=cast.case, kind=Conversation.Kind.SUPPORT, party=yarrow)
    assert async_to_sync(_opens)(f"/ws/conversations/{own.public_id}/", cookie)[0] is True
    for path in (f"/ws/conversations/{extra.conversation_id}/", f"/ws/meetings/{extra.session_id}/"):
        assert async_to_sync(_opens)(path, cookie) == (False, 4404), path
    # And the first person harmed cannot open hers
    wren = _cookie(client_for(cast, "harmed"))
    assert async_to_sync(_opens)(f"/ws/conversations/{own.public_id}/", wren) == (False, 4404)
