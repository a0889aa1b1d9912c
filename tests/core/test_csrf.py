"""CSRF: every state-changing page refuses a post without the page's token or from another site's page;
the API refuses a browser session's write without the token; websockets refuse another site's page."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from mend.asgi import application
from mend.audit.models import AuditEvent
from mend.cases.models import Case
from tests.accounts.helpers import auth_key
from tests.builders import PASSWORD
from tests.test_permission_matrix import PAGE_CALLS, PAGE_MATRIX, build_extra

STAFF = "fac@riverbend.test"
POST_PAGES = sorted(key for key in PAGE_MATRIX if key[1] == "POST")


@pytest.fixture
def extra(cast):
    """The rows the matrix's routes name (tests/test_permission_matrix.py)."""
    return build_extra(cast)


def enforcing(client: Client | None = None) -> Client:
    """A browser that checks CSRF as real ones are checked, carrying the cookies of `client`."""
    checked = Client(enforce_csrf_checks=True)
    if client is not None:
        checked.cookies = client.cookies
    return checked


def token_of(client: Client, path: str = "/account/sign-in/") -> str:
    page = client.get(path).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_it_has_state_changing_pages_to_check():
    assert len(POST_PAGES) > 25


@pytest.mark.parametrize("key", POST_PAGES, ids=lambda key: key[0])
@pytest.mark.parametrize("who", ["facilitator", "harmed"])
def test_it_refuses_every_post_without_the_csrf_token_and_changes_nothing(cast, extra, key, who):
    call = PAGE_CALLS[key](cast, extra, cast.case.reference)
    events = AuditEvent.objects.count()
    response = call.send(enforcing(cast.client(who)))
    assert response.status_code == 403, f"{call.method} {call.path}: {response.status_code}"
    assert AuditEvent.objects.count() == events
    assert b"The page may have been open too long" in response.content


def test_it_accepts_a_post_with_the_token_from_the_same_site(cast):
    client = enforcing()
    token = token_of(client)
    response = client.post(
        "/account/sign-in/",
        {"identifier": STAFF, "auth_key": auth_key(STAFF, PASSWORD), "csrfmiddlewaretoken": token},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil.example", "null"])
def test_it_refuses_a_post_from_another_sites_page_even_with_a_token(cast, origin):
    client = enforcing()
    token = token_of(client)
    response = client.post(
        "/account/sign-in/",
        {"identifier": STAFF, "auth_key": auth_key(STAFF, PASSWORD), "csrfmiddlewaretoken": token},
        headers={"Origin": origin},
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_it_asks_https_posts_without_an_origin_for_a_same_site_referer(cast):
    # Why the referrer policy is same-origin (docs/hardening.md): over HTTPS a post that names neither
    # its origin nor its referer is refused, and under no-referrer the browser sends no referer.
    client = enforcing()
    token = token_of(client)
    form = {"identifier": STAFF, "auth_key": auth_key(STAFF, PASSWORD), "csrfmiddlewaretoken": token}
    assert client.post("/account/sign-in/", form, secure=True).status_code == 403
    assert (
        client.post(
            "/account/sign-in/", form, secure=True, headers={"Referer": "https://evil.example/"}
        ).status_code
        == 403
    )
    same_site = client.post(
        "/account/sign-in/", form, secure=True, headers={"Referer": "https://testserver/account/sign-in/"}
    )
    assert same_site.status_code == 302


def test_it_refuses_an_api_write_from_a_browser_session_without_the_token(cast):
    client = enforcing(cast.client("facilitator"))
    path = f"/api/v1/cases/{cast.case.reference}/transitions"
    refused = client.post(path, {"action": "pause"}, content_type="application/json")
    assert refused.status_code == 403
    assert Case.objects.get(pk=cast.case.pk).stage == cast.case.stage
    token = token_of(client, f"/cases/{cast.case.reference}/")
    allowed = client.post(
        path, {"action": "pause"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert allowed.status_code != 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "accepted"), [(b"http://localhost", True), (b"https://evil.example", False)]
)
def test_it_refuses_a_websocket_opened_by_another_sites_page(cast, origin, accepted):
    client = cast.client("facilitator")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}".encode()

    async def connect():
        communicator = WebsocketCommunicator(
            application,
            f"/ws/cases/{cast.case.reference}/",
            headers=[(b"cookie", cookie), (b"origin", origin), (b"host", b"localhost")],
        )
        connected, _code = await communicator.connect(timeout=10)
        await communicator.disconnect()
        return connected

    assert async_to_sync(connect)() is accepted
