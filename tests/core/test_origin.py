"""The websocket's same-origin check: a conversation socket opens only for a page of this site, compared as
scheme, host and port, not the host alone."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings

from mend.asgi import application
from mend.dialogue import services
from tests.builders import consent
from tests.dialogue.helpers import give_keys

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def socket_path(cast):
    consent(cast.harmed, "take_part", "facilitator_contact")
    give_keys(cast.harmed.user)
    conversation = services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    client = cast.client("harmed")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}"
    return f"/ws/conversations/{conversation.public_id}/", cookie


def opens(path_and_cookie, *, origin: str | None, host: str | None = "localhost:8000", scheme="ws") -> bool:
    path, cookie = path_and_cookie
    headers = [(b"cookie", cookie.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if host is not None:
        headers.append((b"host", host.encode()))

    async def attempt():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        communicator.scope["scheme"] = scheme
        connected, _code = await communicator.connect(timeout=10)
        await communicator.disconnect()
        return connected

    return async_to_sync(attempt)()


def test_it_opens_a_socket_for_a_page_of_this_very_site(cast, socket_path):
    assert opens(socket_path, origin="http://localhost:8000")
    assert opens(socket_path, origin="HTTP://LocalHost:8000")


@pytest.mark.parametrize(
    "origin",
    [
        "https://localhost:8000",  # another scheme
        "http://localhost:9999",  # another port on the same host: another service
        "http://localhost",  # the scheme's own port, not this one
        "http://127.0.0.1:8000",  # an allowed host, but not the one the page came from
        "http://evil.example:8000",
        "null",
        "http://localhost:8000/path",
        "http://user@localhost:8000",
    ],
)
def test_it_refuses_a_socket_whose_origin_differs_in_scheme_host_or_port(cast, socket_path, origin):
    assert not opens(socket_path, origin=origin)


def test_it_refuses_a_socket_without_an_origin(cast, socket_path):
    assert not opens(socket_path, origin=None)


def test_it_refuses_a_host_header_that_is_not_an_allowed_host(cast, socket_path):
    assert not opens(socket_path, origin="http://evil.example:8000", host="evil.example:8000")


def test_it_expects_https_pages_when_mend_is_served_over_https(cast, socket_path, settings):
    # Behind a proxy that ends TLS the socket arrives as plain ws; the pages were HTTPS all the same.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert opens(socket_path, origin="https://localhost", host="localhost")
    assert not opens(socket_path, origin="http://localhost", host="localhost")


def test_it_takes_https_from_a_secure_socket(cast, socket_path):
    assert opens(socket_path, origin="https://localhost", host="localhost", scheme="wss")
    assert not opens(socket_path, origin="http://localhost", host="localhost", scheme="wss")


def test_it_compares_a_handshake_without_a_host_header_with_the_allowed_hosts_on_the_default_port(
    cast, socket_path
):
    assert opens(socket_path, origin="http://localhost", host=None)
    assert not opens(socket_path, origin="http://localhost:8000", host=None)
    assert not opens(socket_path, origin="https://localhost", host=None)
