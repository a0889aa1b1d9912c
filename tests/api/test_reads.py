"""The read routes: programs, the case list with its filters and pages, a case, and its timeline."""

import pytest

from mend.cases import services as case_services
from mend.cases.selectors import PAGE_SIZE

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
    assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)


def test_it_lists_every_case_of_the_program_to_its_coordinator(cast, api_as):
    body = api_as("coordinator").get("/cases").json()
    assert body["count"] == 2
    assert cast.case.reference in {c["reference"] for c in body["items"]}


@pytest.mark.parametrize("who", STRANGERS)
def test_it_lists_no_case_to_staff_outside_it(cast, api_as, who):
    body = api_as(who).get("/cases").json()
    assert body == {"items": [], "count": 0, "page": 1, "pages": 1}


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
    [({"stage": "limbo"}, "stage"), ({"category": "arson"}, "category"), ({"page": "two"}, "page")],
)
def test_it_names_the_filter_to_fix(cast, api_as, params, field):
    response = api_as("coordinator").get("/cases", params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"Please fix: {field}:")


def test_it_pages_the_case_list(cast, api_as):
    for _ in range(PAGE_SIZE + 1):
        case_services.case_create(
            actor=cast.coordinator,
            program=cast.program,
            harm_category="doxxing",
            jurisdictions=["NZ"],
            referral_source="self",
        )
    api = api_as("coordinator")
    first, second = api.get("/cases").json(), api.get("/cases", {"page": 2}).json()
    assert (first["count"], first["pages"], len(first["items"])) == (PAGE_SIZE + 3, 2, PAGE_SIZE)
    assert (second["page"], len(second["items"])) == (2, 3)
    seen = {c["reference"] for c in first["items"]} | {c["reference"] for c in second["items"]}
    assert len(seen) == PAGE_SIZE + 3


@pytest.mark.parametrize(("asked", "given"), [(0, 1), (-3, 1), (99, 1), (10**30, 1)])
def test_it_gives_the_nearest_page_for_one_out_of_range(cast, api_as, asked, given):
    response = api_as("coordinator").get("/cases", {"page": asked})
    assert response.status_code == 200
    assert response.json()["page"] == given


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
