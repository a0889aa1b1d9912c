"""The read routes: programs, the case list with its filters and pages, a case, and its timeline."""

import pytest

from mend.cases import selectors
from mend.cases import services as case_services
from mend.cases.models import Case
from mend.cases.selectors import PAGE_SIZE, cursor_of

EMPTY_PAGE = {"items": [], "count": 0, "count_is_exact": True, "older": None, "newer": None}

STRANGERS = ["other_facilitator_same_program", "other_program_facilitator", "volunteer"]


def test_it_lists_only_the_callers_programs(cast, api_as):
    assert [p["slug"] for p in api_as("facilitator").get("/programs").json()] == ["riverbend"]
    assert [p["slug"] for p in api_as("other_program_facilitator").get("/programs").json()] == ["elsewhere"]


def test_it_describes_a_program(cast, api_as):
    (program,) = api_as("coordinator").get("/programs").json()
    assert program["id"] == cast.program.pk
    assert program["jurisdictions"] == ["NZ"]
    assert set(program) == {
        "id",
        "name",
        "slug",
        "time_zone",
        "default_language",
        "jurisdictions",
        "role_words",
    }


def test_it_lists_the_cases_a_facilitator_runs(cast, api_as):
    body = api_as("facilitator").get("/cases").json()
    assert [c["reference"] for c in body["items"]] == [cast.case.reference]
    assert body["items"][0]["facilitators"] == [{"pseudonym": "Fen Facilitator", "role": "facilitator"}]
    assert (body["count"], body["count_is_exact"], body["older"], body["newer"]) == (1, True, None, None)


def test_it_lists_every_case_of_the_program_to_its_coordinator(cast, api_as):
    body = api_as("coordinator").get("/cases").json()
    assert body["count"] == 2
    assert cast.case.reference in {c["reference"] for c in body["items"]}


@pytest.mark.parametrize("who", STRANGERS)
def test_it_lists_no_case_to_staff_outside_it(cast, api_as, who):
    body = api_as(who).get("/cases").json()
    assert body == EMPTY_PAGE


def test_it_filters_cases_by_stage(cast, api_as):
    case_services.case_transition(actor=cast.coordinator, case=cast.case, action="accept_referral")
    api = api_as("coordinator")
    assert [c["reference"] for c in api.get("/cases", {"stage": "intake"}).json()["items"]] == [
        cast.case.reference
    ]
    assert cast.case.reference not in {
        c["reference"] for c in api.get("/cases", {"stage": "referral"}).json()["items"]
    }


def test_it_filters_cases_by_category(cast, api_as):
    items = api_as("coordinator").get("/cases", {"category": "fraud"}).json()["items"]
    assert [c["harm_category"] for c in items] == ["fraud"]


def test_it_filters_cases_by_facilitator(cast, api_as):
    api = api_as("coordinator")
    items = api.get("/cases", {"facilitator": cast.facilitator.pk}).json()["items"]
    assert [c["reference"] for c in items] == [cast.case.reference]
    assert api.get("/cases", {"facilitator": cast.coordinator.pk}).json()["count"] == 0


def test_it_reads_an_empty_filter_as_no_filter(cast, api_as):
    assert api_as("coordinator").get("/cases", {"stage": "", "category": ""}).json()["count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "limbo"}, "stage"),
        ({"category": "arson"}, "category"),
        ({"after": "two"}, "after"),
        ({"before": "x" * 65}, "before"),
    ],
)
def test_it_names_the_filter_to_fix(cast, api_as, params, field):
    response = api_as("coordinator").get("/cases", params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"Please fix: {field}:")


def add_cases(cast, n: int) -> None:
    for _ in range(n):
        case_services.case_create(
            actor=cast.coordinator,
            program=cast.program,
            harm_category="doxxing",
            jurisdictions=["NZ"],
            referral_source="self",
        )


def test_it_pages_the_case_list_by_cursor(cast, api_as):
    add_cases(cast, PAGE_SIZE + 1)
    api = api_as("coordinator")
    first = api.get("/cases").json()
    assert (first["count"], first["count_is_exact"], len(first["items"])) == (PAGE_SIZE + 3, True, PAGE_SIZE)
    assert first["newer"] is None and first["older"]
    second = api.get("/cases", {"after": first["older"]}).json()
    assert (len(second["items"]), second["older"]) == (3, None)
    seen = [c["reference"] for c in first["items"] + second["items"]]
    assert len(set(seen)) == PAGE_SIZE + 3
    back = api.get("/cases", {"before": second["newer"]}).json()
    assert back["items"] == first["items"]
    assert back["newer"] is None


def test_it_gives_an_empty_page_after_the_oldest_case(cast, api_as):
    oldest = Case.objects.order_by("updated_at", "pk").first()
    response = api_as("coordinator").get("/cases", {"after": cursor_of(oldest)})
    assert response.status_code == 200
    assert response.json() == EMPTY_PAGE | {"count": 2}


@pytest.mark.parametrize(
    "cursor", ["two", "0", "!!!!", "AAAAAAAA", "MTIzNDU2Nzg5MC4w", "OTk5OTk5OTk5OTk5OTk5OTk5LjE", "é" * 8]
)
def test_it_says_a_cursor_it_did_not_give_is_not_one(cast, api_as, cursor):
    response = api_as("coordinator").get("/cases", {"after": cursor})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Please fix: after: this is not a cursor Mend gave; use the older or newer value of a page as it is"
    )


def test_it_refuses_a_cursor_each_way_at_once(cast, api_as):
    cursor = cursor_of(cast.case)
    response = api_as("coordinator").get("/cases", {"after": cursor, "before": cursor})
    assert response.status_code == 422
    assert response.json()["detail"] == "Please fix: before: give after or before, not both"


def test_it_says_when_there_are_more_cases_than_it_counts(cast, api_as, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    add_cases(cast, 1)
    body = api_as("coordinator").get("/cases").json()
    assert (body["count"], body["count_is_exact"], len(body["items"])) == (2, False, 3)


def test_it_shows_a_case_to_its_facilitator(cast, api_as):
    body = api_as("facilitator").get(f"/cases/{cast.case.reference}").json()
    assert body["reference"] == cast.case.reference
    assert body["stage"] == "referral"
    assert "accept_referral" in body["next_actions"]
    by_name = {p["pseudonym"]: p for p in body["participants"]}
    assert {"Wren", "Kestrel", "Alder", "Fen Facilitator"} <= set(by_name)
    assert by_name["Alder"]["supports_id"] == cast.harmed.pk
    assert "intake_notes" not in body


@pytest.mark.parametrize("route", ["", "/timeline"])
@pytest.mark.parametrize("who", STRANGERS)
def test_it_hides_a_case_from_staff_outside_it(cast, api_as, who, route):
    response = api_as(who).get(f"/cases/{cast.case.reference}{route}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("reference", ["C-AAAA-AAAA", "nope", "C-2222-3333"])
def test_it_answers_404_for_a_case_that_does_not_exist(cast, api_as, reference):
    response = api_as("coordinator").get(f"/cases/{reference}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("reference", ["C-" + "A" * 500, "%00", "C-AAAA AAAA", "%C3%A9"])
def test_it_says_what_a_case_reference_looks_like(cast, api_as, reference):
    response = api_as("coordinator").get(f"/cases/{reference}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Please fix: reference: String should match pattern")


def test_it_gives_the_timeline_in_plain_words(cast, api_as):
    case_services.case_transition(actor=cast.facilitator, case=cast.case, action="accept_referral")
    events = api_as("facilitator").get(f"/cases/{cast.case.reference}/timeline").json()
    assert len(events) >= 5
    assert all(set(e) == {"at", "text"} and e["text"] for e in events)
    assert events[0]["at"] >= events[-1]["at"]
