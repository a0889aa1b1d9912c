"""The staff case list: who sees which cases (the access rule's two SQL forms agree), pages by cursor that
walk every case once in order, and a count that stops at a cap."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.http import Http404
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from mend.accounts.models import Membership
from mend.cases import access, forms, selectors
from mend.cases import services as case_services
from mend.cases.models import Case, Participant, Role
from mend.cases.selectors import PAGE_SIZE, CasePage, Cursor, cursor_of, read_cursor
from tests.builders import make_staff

# The access rule -----------------------------------------------------------------------------------------


def new_case(cast, *, program=None, facilitator=None, category="fraud", actor=None) -> Case:
    return case_services.case_create(
        actor=actor or cast.coordinator,
        program=program or cast.program,
        harm_category=category,
        jurisdictions=["NZ"],
        referral_source="self",
        facilitator=facilitator,
    )


@pytest.fixture
def everyone(cast) -> dict:
    """Each kind of person the rule tells apart, with the cases they should run."""
    program_cases = set(cast.program.cases.all())
    case_services.facilitator_assign(
        actor=cast.coordinator,
        case=cast.case,
        user=cast.other_facilitator_same_program,
        role=Role.CO_FACILITATOR,
    )
    removed = make_staff(cast.program, "facilitator", "gone@riverbend.test", "Rue Removed")
    left_case = new_case(cast, facilitator=removed)
    Participant.objects.filter(case=left_case, user=removed).update(removed_at=timezone.now())
    former = make_staff(cast.program, "facilitator", "former@riverbend.test", "Fay Former")
    former_case = new_case(cast, facilitator=former)
    Membership.objects.filter(user=former, program=cast.program).delete()
    elsewhere_case = new_case(
        cast,
        program=cast.other_program,
        facilitator=cast.other_program_facilitator,
        actor=cast.other_program_facilitator,
    )
    program_cases |= {left_case, former_case}
    return {
        "admin": (cast.admin, program_cases),
        "coordinator": (cast.coordinator, program_cases),
        "facilitator": (cast.facilitator, {cast.case}),
        "co-facilitator": (cast.other_facilitator_same_program, {cast.case}),
        "removed facilitator": (removed, set()),
        "former member of the program": (former, set()),
        "volunteer": (cast.volunteer, set()),
        "outsider": (cast.outsider, set()),
        "harmed party": (cast.harmed.user, set()),
        "other program's staff": (cast.other_program_facilitator, {elsewhere_case}),
    }


WHO = [
    "admin",
    "coordinator",
    "facilitator",
    "co-facilitator",
    "removed facilitator",
    "former member of the program",
    "volunteer",
    "outsider",
    "harmed party",
    "other program's staff",
]


@pytest.mark.parametrize("who", WHO)
def test_it_selects_the_same_cases_in_both_forms_of_the_access_rule(cast, everyone, who):
    user, expected = everyone[who]
    driven = set(access.cases_managed_by(user))
    probed = set(access.cases_managed_by_probed(user))
    overseen, places = access.managed_case_sources(user)
    parts = set(overseen) | {place.case for place in places}
    assert driven == probed == parts == expected
    # The probed form reached through a case's places, as the list filtered by a facilitator uses it.
    through = Participant.objects.filter(access.managed_case_test(user, through="case__"))
    assert {p.case_id for p in through} == {p.case_id for p in Participant.objects.filter(case__in=expected)}


@pytest.mark.parametrize("who", WHO)
def test_it_checks_one_case_by_the_same_rule_as_it_lists_them(cast, everyone, who):
    """The single-case checks (probed form) let each person reach exactly the cases of the driven form."""
    user, _expected = everyone[who]
    runs = set(access.cases_managed_by(user))
    sees = runs | set(access.cases_taken_part_in(user))
    for case in Case.objects.all():
        assert access.manages_case(user, case.pk) == (case in runs), (who, case.reference)
        for check, allowed in ((access.access_case, sees), (access.access_managed_case, runs)):
            try:
                reached = check(user, case.reference) == case
            except Http404:
                reached = False
            assert reached == (case in allowed), (who, check.__name__, case.reference)


# Pages ---------------------------------------------------------------------------------------------------


@pytest.fixture
def many_cases(cast) -> None:
    """Sixty-odd cases of both kinds at several stages, a third of them changed at the very same moment (the
    order then falls back on the id), and three facilitated by a colleague."""
    for i in range(60):
        case = new_case(cast, facilitator=cast.facilitator, category="fraud" if i % 3 else "doxxing")
        if i % 4 == 0:
            case_services.case_transition(actor=cast.facilitator, case=case, action="accept_referral")
        if i in (7, 8, 9):
            case_services.facilitator_assign(
                actor=cast.coordinator, case=case, user=cast.other_facilitator_same_program
            )
    # A third of the cases changed at the very moment of one in the middle: page ends fall among them.
    moment = Case.objects.order_by("-updated_at", "-pk")[30].updated_at
    Case.objects.filter(
        pk__in=[pk for pk in Case.objects.values_list("pk", flat=True) if pk % 3 == 0]
    ).update(updated_at=moment)


def expected_order(user, *, stage="", category="", facilitator_id=None) -> list[str]:
    cases = access.cases_managed_by(user)
    if stage:
        cases = cases.filter(stage=stage)
    if category:
        cases = cases.filter(harm_category=category)
    if facilitator_id:
        cases = cases.filter(
            participants__user_id=facilitator_id,
            participants__role__in=[Role.FACILITATOR, Role.CO_FACILITATOR],
            participants__removed_at=None,
        )
    return list(cases.order_by("-updated_at", "-pk").values_list("reference", flat=True))


def references(page: CasePage) -> list[str]:
    return [case.reference for case in page.cases]


LISTS = [
    ("coordinator", {}),
    ("facilitator", {}),
    ("facilitator", {"category": "fraud"}),
    ("coordinator", {"stage": "intake", "category": "doxxing"}),
    ("coordinator", {"facilitator": "facilitator"}),
    ("coordinator", {"facilitator": "other_facilitator_same_program"}),
    ("other_facilitator_same_program", {"facilitator": "facilitator"}),
]


@pytest.mark.parametrize("cap", [None, 4], ids=["few cases", "many cases"])
@pytest.mark.parametrize(("who", "filters"), LISTS)
def test_it_walks_every_case_once_in_order_down_and_back_up(cast, many_cases, monkeypatch, who, filters, cap):
    if cap:
        monkeypatch.setattr(selectors, "COUNT_CAP", cap)
    user = getattr(cast, who)
    filters = dict(filters)
    if "facilitator" in filters:
        filters["facilitator_id"] = getattr(cast, filters.pop("facilitator")).pk
    expected = expected_order(user, **filters)
    assert expected

    pages = [selectors.case_page(user=user, **filters)]
    while pages[-1].older:
        pages.append(selectors.case_page(user=user, after=read_cursor(pages[-1].older), **filters))
    assert [ref for page in pages for ref in references(page)] == expected
    assert all(len(page.cases) == PAGE_SIZE for page in pages[:-1])
    assert pages[0].newest and pages[0].newer is None
    assert all(not page.newest and page.newer for page in pages[1:])

    back = [pages[-1]]
    while back[-1].newer:
        back.append(selectors.case_page(user=user, before=read_cursor(back[-1].newer), **filters))
    assert [ref for page in reversed(back) for ref in references(page)] == expected
    assert back[-1].newest and references(back[-1]) == references(pages[0])

    counted = len(expected) if not cap or len(expected) <= cap else cap
    assert {(page.count, page.count_is_exact) for page in pages} == {(counted, counted == len(expected))}


def test_it_follows_the_page_links_down_the_list_and_back(cast, many_cases):
    client = cast.client("coordinator")
    pages, path = [], "?category=fraud"
    while path:
        pages.append(client.get("/cases/" + path).content.decode())
        path = link(pages[-1], "Older")
    assert len(pages) == 2
    assert [ref for page in pages for ref in cases_in(page)] == expected_order(
        cast.coordinator, category="fraud"
    )
    assert link(pages[0], "Newer") is None and link(pages[0], "Newest") is None
    assert link(pages[1], "Newest") == "?category=fraud"
    newer = client.get("/cases/" + link(pages[1], "Newer")).content.decode()
    assert cases_in(newer) == cases_in(pages[0])


def link(content: str, text: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)"[^>]*>{text}</a>', content)
    return html.unescape(found[1]) if found else None


def cases_in(content: str) -> list[str]:
    return re.findall(r'<td><a href="/cases/(C-[A-Z0-9-]+)/">', content)


@pytest.mark.parametrize("cap", [None, 4], ids=["few cases", "many cases"])
@pytest.mark.parametrize("who", ["coordinator", "facilitator", "other_facilitator_same_program", "volunteer"])
def test_it_puts_the_same_waiting_cases_on_the_desk_however_many_cases_there_are(
    cast, many_cases, monkeypatch, who, cap
):
    """The dashboard's waiting cases (referrals and pauses together, longest waiting first) are read from the
    user's own rows or down each stage's index: the same cases either way, and only cases they run."""
    for case in Case.objects.filter(stage="intake")[:5]:
        case_services.case_transition(actor=cast.coordinator, case=case, action="pause")
    # The pauses have waited longest: a walk that took the stages one after the other would list them last.
    oldest = Case.objects.order_by("updated_at").first().updated_at
    Case.objects.filter(stage="paused").update(updated_at=oldest - timedelta(minutes=1))
    user = getattr(cast, who)
    expected = list(
        access.cases_managed_by(user).filter(stage__in=["referral", "paused"]).order_by("updated_at", "pk")
    )
    if who == "coordinator":
        assert {case.stage for case in expected} == {"referral", "paused"} and len(expected) > 10
    assert bool(expected) == (who != "volunteer")
    if who == "coordinator":
        assert expected[0].stage == "paused" and expected[-1].stage == "referral"
    if cap:
        monkeypatch.setattr(selectors, "COUNT_CAP", cap)
    assert selectors.waiting_for(user, limit=100) == expected
    assert selectors.waiting_for(user) == expected[:10]


@pytest.mark.parametrize("who", ["outsider", "volunteer", "other_program_facilitator"])
def test_it_lists_nothing_to_people_who_run_no_case_here(cast, many_cases, who):
    page = selectors.case_page(user=getattr(cast, who), category="fraud")
    assert (page.cases, page.count, page.older) == ([], 0, None)


def test_it_shows_nothing_it_should_not_through_a_cursor(cast, many_cases):
    """A cursor names a place in the order, not a case to show: the colleague still sees only their three."""
    colleague = cast.other_facilitator_same_program
    newest_of_all = Case.objects.order_by("-updated_at", "-pk").first()
    future = Cursor(newest_of_all.updated_at + timedelta(days=1), newest_of_all.pk)
    page = selectors.case_page(user=colleague, after=future)
    assert references(page) == expected_order(colleague)
    assert len(page.cases) == 3


# The count -----------------------------------------------------------------------------------------------


def test_it_says_there_are_more_cases_than_it_counts(cast, many_cases, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    content = cast.client("coordinator").get("/cases/").content.decode()
    assert "<p>More than 3 cases</p>" in content
    few = cast.client("coordinator").get("/cases/?facilitator=" + str(cast.other_facilitator_same_program.pk))
    assert "<p>3 cases</p>" in few.content.decode()


def test_it_counts_exactly_up_to_the_cap(cast, many_cases):
    content = cast.client("coordinator").get("/cases/").content.decode()
    assert f"<p>{len(expected_order(cast.coordinator))} cases</p>" in content


def test_it_writes_the_cap_as_people_read_numbers(cast):
    request = RequestFactory().get("/cases/")
    request.user = cast.coordinator
    page = CasePage(cases=[], count=1000, count_is_exact=False, older=None, newer=None, newest=True)
    content = render_to_string(
        "cases/list.html",
        {"form": forms.CaseFilterForm(facilitators=[]), "page": page, "query": "", "count_cap": 1000},
        request=request,
    )
    assert "<p>More than 1,000 cases</p>" in content


# Cursors -------------------------------------------------------------------------------------------------


def test_it_reads_back_the_place_a_cursor_names(cast):
    place = read_cursor(cursor_of(cast.case))
    assert (place.updated_at, place.pk) == (cast.case.updated_at, cast.case.pk)


@given(st.text(max_size=80))
def test_it_refuses_any_other_text_as_a_cursor_with_a_value_error(text):
    try:
        place = read_cursor(text)
    except ValueError:
        return
    assert read_cursor(cursor_of(Case(pk=place.pk, updated_at=place.updated_at))) == place


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=2**63 - 1),
)
def test_it_reads_back_any_place_it_writes(updated_at, pk):
    assert read_cursor(cursor_of(Case(pk=pk, updated_at=updated_at))) == Cursor(updated_at, pk)
