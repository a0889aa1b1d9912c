"""Pages and API reads take a fixed number of queries, however many cases, people and events there are."""

import functools
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.cases import selectors as case_selectors
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.cases.selectors import PAGE_SIZE, cursor_of
from mend.dialogue import selectors
from mend.dialogue import services as dialogue_services
from mend.dialogue.models import Conversation
from tests.builders import join, prepare_for_encounter
from tests.dialogue.helpers import give_keys, seal

N = 5

# The most queries each page may take, whatever the data. Raise one only on purpose, when a page gains a
# section; the session, the user and (for staff) the second factor are three of them.
# The staff and participant case pages also show consent, preparation, notices and sessions: a fixed
# handful of bulk reads (consents, choices, assessments, acknowledgments, plans, declarations).
# Each page that shows the site name in its title reads it once (mend.accounts.site_name): one more than
# before issue 18 on the pages below that had no read to spare.
MOST_QUERIES = {
    # One read for the staff alerts (circles, meetings), one for the messages waiting unread for the user
    # (mend.dialogue.selectors.unread_for_staff). "My cases" is a page of the case list filtered by
    # the user (3 reads) and "Waiting for you" reads the user's cases by key or walks each stage (2-3 reads):
    # three more than one read each, so that neither gathers all of a lead facilitator's 100,000 cases.
    "dashboard": 14,
    "case list": 8,
    "api case list": 6,
    # One more read for the case's data key, which opens its sealed intake notes and referral details.
    "staff case page": 19,
    "participant case page": 15,
    "participant home": 6,
    "api case detail": 7,
    # The dialogue reads everyone's place in the case to know who is in a conversation, and their consent
    # and preparation records only where a check needs them: a fixed handful of bulk reads, whatever the
    # number of people or messages.
    "conversation list": 12,
    "conversation page": 14,
    "api messages": 7,
    "backlog": 5,
}

_time_zones = functools.cache(zoneinfo.available_timezones)


@pytest.fixture(autouse=True)
def quick_time_zones(monkeypatch):
    """Speed only: mend.core.validators.time_zone walks the time-zone files on every call."""
    monkeypatch.setattr(zoneinfo, "available_timezones", _time_zones)


def add_cases(cast, n: int, *, start: int = 0):
    """n more cases run by the cast's facilitator, with a mix of co-facilitators, parties and stages."""
    for i in range(start, start + n):
        case = case_services.case_create(
            actor=cast.coordinator, program=cast.program, harm_category="fraud" if i % 2 else "doxxing",
            jurisdictions=["NZ"], referral_source="self", facilitator=cast.facilitator,
        )  # fmt: skip
        if i % 3 == 0:
            case_services.facilitator_assign(
                actor=cast.coordinator,
                case=case,
                user=cast.other_facilitator_same_program,
                role=Role.CO_FACILITATOR,
            )
        if i % 2:
            join(actor=cast.facilitator, case=case, role=Role.HARMED_PARTY, pseudonym=f"Ibis {i}")
        if i % 4 == 1:
            case_services.case_transition(actor=cast.facilitator, case=case, action="pause")


def add_people_and_events(cast, n: int, *, start: int = 0):
    """More parties and other people, open links and history in the cast's own case."""
    for i in range(start, start + n):
        join(actor=cast.facilitator, case=cast.case, role=Role.COMMUNITY_MEMBER, pseudonym=f"Tern {i}")
        # Parties matter most: pages check consent, readiness and safety for each of them.
        join(actor=cast.facilitator, case=cast.case, role=Role.HARMED_PARTY, pseudonym=f"Plover {i}")
        join(actor=cast.facilitator, case=cast.case, role=Role.RESPONSIBLE_PARTY, pseudonym=f"Stint {i}")
        case_services.participant_invite(actor=cast.facilitator, case=cast.case, role=Role.INTERPRETER)
        for action in ("pause", "resume"):
            case_services.case_transition(actor=cast.facilitator, case=cast.case, action=action)
    colleagues = [cast.coordinator, cast.admin, cast.other_facilitator_same_program]
    for colleague in colleagues[start : start + n]:
        # The case's facilitator assigns them: assigning oneself needs a colleague's approval.
        case_services.facilitator_assign(
            actor=cast.facilitator, case=cast.case, user=colleague, role=Role.CO_FACILITATOR
        )


def count_queries(client, path: str) -> tuple[int, str]:
    client.get(path)  # the first call may fill per-process caches; the measured one is steady
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured), response.content.decode()


def case_links(content: str) -> int:
    return len(set(re.findall(r"C-[A-Z0-9]{4}-[A-Z0-9]{4}", content)))


# (who, page, most queries allowed). The counts include the session, the user and the second factor.
PAGES = [
    ("facilitator", "/", "dashboard"),
    ("coordinator", "/", "dashboard"),
    ("facilitator", "/cases/", "case list"),
    ("coordinator", "/cases/", "case list"),
    ("facilitator", "/cases/?stage=referral", "case list"),
    ("facilitator", "/cases/?category=fraud&stage=referral", "case list"),
    ("coordinator", "/cases/?facilitator={facilitator}", "case list"),
    ("facilitator", "/api/v1/cases", "api case list"),
    ("coordinator", "/api/v1/cases?category=fraud", "api case list"),
    # Older pages, reached through the cursor of the case that ends the first page.
    ("coordinator", "/cases/?after={cursor}", "case list"),
    ("facilitator", "/cases/?category=fraud&after={cursor}", "case list"),
    ("coordinator", "/api/v1/cases?after={cursor}", "api case list"),
]

# The case list reads a user's cases from their own rows when they run few, and walks the cases newest first
# when they run many (mend.cases.selectors.case_page): a small cap takes the cast's lists down the second way.
CAPS = pytest.mark.parametrize("cap", [None, 4], ids=["few cases", "many cases"])


def second_page_cursor() -> str:
    """The cursor of the case that ends the first page of all cases (each list here has the older ones)."""
    return cursor_of(Case.objects.order_by("-updated_at", "-pk")[PAGE_SIZE - 1])


@CAPS
@pytest.mark.parametrize(("who", "page", "kind"), PAGES)
def test_it_lists_cases_in_queries_that_do_not_grow_with_their_number(
    cast, django_assert_num_queries, monkeypatch, who, page, kind, cap
):
    if cap:
        monkeypatch.setattr(case_selectors, "COUNT_CAP", cap)
    client = cast.client(who)
    deep = "{cursor}" in page
    add_cases(cast, N + (PAGE_SIZE if deep else 0))
    path = page.format(facilitator=cast.facilitator.pk, cursor=second_page_cursor() if deep else "")
    few, before = count_queries(client, path)
    add_cases(cast, 3 * N, start=100)
    if deep:  # the same depth in the longer list: the page after the first, which now holds more cases
        path = page.format(facilitator=cast.facilitator.pk, cursor=second_page_cursor())
    client.get(path)
    with django_assert_num_queries(few):
        response = client.get(path)
    after = response.content.decode()
    assert case_links(after) > case_links(before), "the second measure should show more cases"
    if not (who == "coordinator" and path == "/"):  # a coordinator's dashboard lists no one's names
        # Each row names its facilitators, so they are really read, not skipped.
        name = cast.facilitator.display_name
        assert after.count(name) > before.count(name) >= 1
    assert few <= MOST_QUERIES[kind]


def test_it_serves_the_staff_case_page_in_queries_that_do_not_grow(cast, django_assert_num_queries):
    path = f"/cases/{cast.case.reference}/"
    client = cast.client("facilitator")
    add_cases(cast, N)
    add_people_and_events(cast, 1)
    few, content = count_queries(client, path)
    add_cases(cast, 3 * N, start=100)
    add_people_and_events(cast, 3, start=1)
    client.get(path)
    with django_assert_num_queries(few):
        response = client.get(path)
    content_after = response.content.decode()
    assert content_after.count("Plover ") > content.count("Plover ")
    assert content_after.count("<li><time") > content.count("<li><time")
    assert few <= MOST_QUERIES["staff case page"]


@pytest.mark.parametrize("who", ["harmed", "responsible", "supporter"])
def test_it_serves_the_participant_case_page_in_queries_that_do_not_grow(
    cast, django_assert_num_queries, who
):
    path = f"/cases/{cast.case.reference}/"
    client = cast.client(who)
    add_cases(cast, N)
    few, content = count_queries(client, path)
    add_cases(cast, 3 * N, start=100)
    add_people_and_events(cast, 3)
    client.get(path)
    with django_assert_num_queries(few):
        response = client.get(path)
    assert "Cole Coordinator" in response.content.decode()  # a co-facilitator added since the first measure
    assert few <= MOST_QUERIES["participant case page"]


def test_it_serves_a_participant_in_several_cases_their_list_in_fixed_queries(
    cast, django_assert_num_queries
):
    user = cast.harmed.user
    client = cast.client("harmed")

    def take_part(n, start):
        add_cases(cast, n, start=start)
        for case in cast.program.cases.exclude(participants__user=user).order_by("-pk")[:n]:
            Participant.objects.create(
                case=case, user=user, role=Role.SUPPORTER, pseudonym="Wren", joined_at=timezone.now()
            )

    take_part(N, 0)
    few, content = count_queries(client, "/")
    take_part(3 * N, 100)
    client.get("/")
    with django_assert_num_queries(few):
        response = client.get("/")
    assert case_links(response.content.decode()) > case_links(content)
    assert few <= MOST_QUERIES["participant home"]


def test_it_serves_the_api_case_detail_and_timeline_in_queries_that_do_not_grow(
    cast, django_assert_num_queries
):
    client = cast.client("facilitator")
    paths = [f"/api/v1/cases/{cast.case.reference}", f"/api/v1/cases/{cast.case.reference}/timeline"]
    add_cases(cast, N)
    add_people_and_events(cast, 1)
    few = [count_queries(client, path)[0] for path in paths]
    add_cases(cast, 3 * N, start=100)
    add_people_and_events(cast, 3, start=1)
    for path, expected in zip(paths, few, strict=True):
        client.get(path)
        with django_assert_num_queries(expected):
            client.get(path)
    assert max(few) <= MOST_QUERIES["api case detail"]


# The dialogue: pages, the relay queue and the backlog a reconnecting client asks for.


def relay_messages(cast, relay, keys, n: int):
    for i in range(n):
        envelope = seal(relay, keys, f"draft {i}", meta={"kind": "for_relay", "approved": bool(i % 2)})
        dialogue_services.message_post(actor=cast.responsible.user, conversation=relay, envelope=envelope)


def count_calls(function, *args) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        result = function(*args)
    return len(captured), result


def test_it_serves_conversations_and_their_backlog_in_queries_that_do_not_grow_with_messages(
    cast, django_assert_num_queries
):
    prepare_for_encounter(cast, mode="indirect")
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="begin_encounter")
    keys = give_keys(cast.responsible.user)
    give_keys(cast.facilitator)
    give_keys(cast.harmed.user)
    relay = dialogue_services.conversation_open(case=cast.case, kind="relay", party=cast.responsible)
    facilitator, responsible = cast.client("facilitator"), cast.client("responsible")
    pages = [
        (facilitator, f"/cases/{cast.case.reference}/messages/", "conversation list"),
        (responsible, f"/cases/{cast.case.reference}/messages/", "conversation list"),
        (facilitator, f"/cases/{cast.case.reference}/messages/{relay.public_id}/", "conversation page"),
        (responsible, f"/cases/{cast.case.reference}/messages/{relay.public_id}/", "conversation page"),
        (facilitator, f"/api/v1/conversations/{relay.public_id}/messages", "api messages"),
    ]

    def backlog_and_receipts():
        # What the websocket's hello reads: the backlog, then the receipts on one's own messages.
        conversation = Conversation.objects.select_related("case__program", "party").get(pk=relay.pk)
        return len(selectors.backlog(conversation, cast.responsible.user, 0)), selectors.receipts_of(
            conversation, cast.responsible.user
        )

    relay_messages(cast, relay, keys, 3)
    few = [count_queries(client, path)[0] for client, path, _kind in pages]
    few_backlog, (shown, _receipts) = count_calls(backlog_and_receipts)
    assert shown == 3
    queue_before = count_queries(facilitator, pages[0][1])[1].count("From <bdi>Kestrel</bdi>")

    relay_messages(cast, relay, keys, 27)
    for (client, path, kind), expected in zip(pages, few, strict=True):
        client.get(path)
        with django_assert_num_queries(expected):
            response = client.get(path)
        assert expected <= MOST_QUERIES[kind], (path, expected)
        if path.startswith("/api/"):
            assert len(response.json()) == 30
    many_backlog, (shown, _receipts) = count_calls(backlog_and_receipts)
    assert shown == 30
    assert many_backlog == few_backlog <= MOST_QUERIES["backlog"]
    assert count_queries(facilitator, pages[0][1])[1].count("From <bdi>Kestrel</bdi>") == 30 > queue_before
