"""Session time-outs: signed out after MEND_SESSION_IDLE_MINUTES without a request and MEND_SESSION_MAX_HOURS
after signing in, sent to the sign-in page with a calm word on why, and the stored session gone with it."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from mend.core.middleware import IDLE_MESSAGE, MAX_AGE_MESSAGE, SEEN_AT, SIGNED_IN_AT
from tests.accounts.helpers import participant_with_phrase, sign_in, signed_in_as
from tests.builders import PASSWORD
from tests.dialogue.test_consumers import connect, cookie_of, hello, run, support  # noqa: F401 - a fixture

STAFF = "fac@riverbend.test"
PHRASE = "quiet harbour lantern morning cedar tide"


def page(cast) -> str:
    return f"/cases/{cast.case.reference}/"


def stamps(client: Client) -> tuple[int, int]:
    session = client.session
    return session[SIGNED_IN_AT], session[SEEN_AT]


def backdate(client: Client, *, signed_in_ago: float | None = None, seen_ago: float | None = None) -> str:
    """Moves the session's clock back, as if time had passed; returns the session's key."""
    session = client.session
    now = time.time()
    if signed_in_ago is not None:
        session[SIGNED_IN_AT] = int(now - signed_in_ago)
    if seen_ago is not None:
        session[SEEN_AT] = int(now - seen_ago)
    session.save()
    return session.session_key


def shown(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_it_starts_both_clocks_when_someone_signs_in(cast):
    client = Client()
    before = int(time.time())
    assert sign_in(client, STAFF, PASSWORD).status_code == 302
    signed_in_at, seen_at = stamps(client)
    assert before <= signed_in_at == seen_at <= time.time()


def test_it_signs_out_after_the_idle_time_and_says_why_on_the_sign_in_page(cast, settings):
    client = cast.client("harmed")
    assert client.get(page(cast)).status_code == 200
    key = backdate(client, seen_ago=settings.MEND_SESSION_IDLE_MINUTES * 60 + 5)
    response = client.get(page(cast))
    assert response.status_code == 302
    where = urlsplit(response["Location"])
    assert where.path == "/account/sign-in/" and parse_qs(where.query)["next"] == [page(cast)]
    assert signed_in_as(client) is None
    # The stored session is gone: the conversation socket's check on each frame sees that too.
    assert not SessionStore().exists(key)
    sign_in_page = client.get(response["Location"])
    assert IDLE_MESSAGE in shown(sign_in_page)
    assert MAX_AGE_MESSAGE not in shown(sign_in_page)


def test_it_keeps_someone_signed_in_who_comes_back_within_the_idle_time(cast, settings):
    client = cast.client("harmed")
    client.get(page(cast))
    backdate(client, seen_ago=settings.MEND_SESSION_IDLE_MINUTES * 60 - 30)
    assert client.get(page(cast)).status_code == 200
    # That request was activity: the idle clock starts again from it.
    assert stamps(client)[1] >= time.time() - 5


def test_it_keeps_a_busy_session_going_past_the_idle_time_by_activity(cast, settings):
    client = cast.client("facilitator")
    client.get(page(cast))
    idle = settings.MEND_SESSION_IDLE_MINUTES * 60
    # Signed in three idle periods ago, with a request every two thirds of one since.
    backdate(client, signed_in_ago=3 * idle, seen_ago=2 * idle // 3)
    assert client.get(page(cast)).status_code == 200
    assert signed_in_as(client) == cast.facilitator.pk


def test_it_signs_out_after_the_longest_session_however_active(cast, settings):
    client = cast.client("facilitator")
    client.get(page(cast))
    key = backdate(client, signed_in_ago=settings.MEND_SESSION_MAX_HOURS * 3600 + 5, seen_ago=10)
    response = client.get(page(cast))
    assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")
    assert not SessionStore().exists(key)
    assert MAX_AGE_MESSAGE in shown(client.get(response["Location"]))


def test_it_keeps_the_longest_session_until_it_is_reached(cast, settings):
    client = cast.client("facilitator")
    client.get(page(cast))
    backdate(client, signed_in_ago=settings.MEND_SESSION_MAX_HOURS * 3600 - 60, seen_ago=10)
    assert client.get(page(cast)).status_code == 200


def test_it_follows_the_configured_times(cast, settings):
    settings.MEND_SESSION_IDLE_MINUTES = 2
    client = cast.client("harmed")
    client.get(page(cast))
    backdate(client, seen_ago=90)
    assert client.get(page(cast)).status_code == 200
    backdate(client, seen_ago=125)
    assert client.get(page(cast)).status_code == 302
    settings.MEND_SESSION_IDLE_MINUTES, settings.MEND_SESSION_MAX_HOURS = 30, 1
    client = cast.client("harmed")
    client.get(page(cast))
    backdate(client, signed_in_ago=3700, seen_ago=10)
    assert client.get(page(cast)).status_code == 302


def test_it_starts_the_clocks_afresh_on_signing_in_again(cast, settings):
    user, _made = participant_with_phrase(cast, "Rata", PHRASE)
    client = Client()
    sign_in(client, user.username, PHRASE)
    backdate(client, signed_in_ago=settings.MEND_SESSION_MAX_HOURS * 3600 - 60, seen_ago=120)
    assert sign_in(client, user.username, PHRASE).status_code == 302
    assert signed_in_as(client) == user.pk
    signed_in_at, seen_at = stamps(client)
    assert signed_in_at == seen_at >= time.time() - 5


def test_it_answers_a_timed_out_public_page_as_signed_out(cast, settings):
    client = cast.client("harmed")
    client.get(page(cast))
    backdate(client, seen_ago=settings.MEND_SESSION_IDLE_MINUTES * 60 + 5)
    response = client.get("/account/sign-in/")
    assert response.status_code == 200
    assert IDLE_MESSAGE in shown(response)
    assert signed_in_as(client) is None


def test_it_leaves_people_who_are_not_signed_in_alone(db):
    client = Client()
    assert client.get("/account/sign-in/").status_code == 200
    assert SIGNED_IN_AT not in client.session


@pytest.mark.django_db(transaction=True)
def test_it_closes_the_persons_open_conversation_when_their_session_times_out(cast, support, settings):  # noqa: F811
    client = cast.client("harmed")
    client.get(page(cast))

    async def scenario():
        communicator, connected, _code = await connect(cookie_of(client), support.id)
        assert connected
        await hello(communicator)
        await database_sync_to_async(backdate)(client, seen_ago=settings.MEND_SESSION_IDLE_MINUTES * 60 + 5)
        # The next request anywhere (another tab, a reload) ends the session and reaches this socket.
        response = await database_sync_to_async(client.get)(page(cast))
        assert response.status_code == 302
        assert (await communicator.receive_json_from(timeout=3))["type"] == "error"
        assert (await communicator.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4401}

    run(scenario)
