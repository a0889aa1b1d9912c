"""Opening a case and moving it through the stage table, with the audit events each writes."""

import pytest

from mend.audit.models import AuditEvent
from mend.cases.models import Case


def _new_case(program_id, **changes):
    body = {
        "program_id": program_id,
        "harm_category": "data_breach",
        "jurisdictions": ["NZ", "au-nsw"],
        "referral_source": "community",
        "referral_details": "A call from the library's IT desk.",
    }
    body.update(changes)
    return body


def test_it_opens_a_case(cast, api_as):
    response = api_as("facilitator").post("/cases", _new_case(cast.program.pk, assign_me=True))
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(reference=body["reference"])
    assert (case.program, case.stage, case.jurisdictions) == (cast.program, "referral", ["NZ", "AU-NSW"])
    assert body["facilitators"] == [{"pseudonym": "Fen Facilitator", "role": "facilitator"}]
    assert AuditEvent.objects.filter(case=case, code="case.created", actor=cast.facilitator).exists()
    assert AuditEvent.objects.filter(case=case, code="case.facilitator_assigned").exists()


def test_it_opens_a_case_without_assigning_the_caller(cast, api_as):
    body = api_as("coordinator").post("/cases", _new_case(cast.program.pk)).json()
    assert body["facilitators"] == []


@pytest.mark.parametrize("who", ["other_program_facilitator", "volunteer"])
def test_it_answers_404_for_a_program_the_caller_cannot_open_cases_in(cast, api_as, who):
    before = Case.objects.count()
    response = api_as(who).post("/cases", _new_case(cast.program.pk))
    assert response.status_code == 404
    assert Case.objects.count() == before


@pytest.mark.parametrize("program_id", [987654, 0, -1, 2**63, 10**40])
def test_it_answers_404_or_422_for_a_program_that_does_not_exist(cast, api_as, program_id):
    response = api_as("coordinator").post("/cases", _new_case(program_id))
    assert response.status_code in (404, 422)
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"harm_category": "arson"}, "harm_category: Input should be 'sexual_assault'"),
        ({"referral_source": "rumour"}, "referral_source: Input should be 'self'"),
        ({"jurisdictions": []}, "jurisdictions:"),
        ({"jurisdictions": ["ZZ"]}, "“ZZ” is not a country or region code"),
        ({"jurisdictions": ["  "]}, "jurisdictions.0: String should match pattern"),
        ({"jurisdictions": ["NZ", "ZZ-QQQ"]}, "“ZZ-QQQ” is not a country or region code"),
        ({"referral_details": "x" * 5001}, "referral_details:"),
        ({"program_id": "riverbend"}, "program_id:"),
        ({"referral_details": "bad\x00byte"}, "referral_details:"),
    ],
)
def test_it_says_what_to_fix_in_a_new_case_and_writes_nothing(cast, api_as, changes, words):
    api = api_as("coordinator")
    before = (Case.objects.count(), AuditEvent.objects.count())
    response = api.post("/cases", {**_new_case(cast.program.pk), **changes})
    assert 400 <= response.status_code < 500
    assert words in response.json()["detail"]
    assert (Case.objects.count(), AuditEvent.objects.count()) == before


def test_it_says_what_to_fix_in_a_body_that_is_not_json(cast, api_as):
    api = api_as("coordinator")
    response = api.client.post("/api/v1/cases", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "JSON" in response.json()["detail"]


def test_it_moves_a_case_to_the_next_stage(cast, api_as):
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/transitions", {"action": "accept_referral"}
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "intake"
    cast.case.refresh_from_db()
    assert cast.case.stage == "intake"
    event = AuditEvent.objects.filter(case=cast.case, code="case.stage_changed").get()
    assert event.payload == {"action": "accept_referral", "from": "referral", "to": "intake"}


def test_it_says_what_a_failing_guard_waits_for(cast, api_as):
    api = api_as("coordinator")
    unassigned = api.post("/cases", _new_case(cast.program.pk)).json()["reference"]
    assert api.post(f"/cases/{unassigned}/transitions", {"action": "accept_referral"}).status_code == 200
    response = api.post(f"/cases/{unassigned}/transitions", {"action": "start_assessment"})
    assert response.status_code == 409
    assert response.json()["detail"] == "Waiting for: a facilitator assigned to the case."
    assert Case.objects.get(reference=unassigned).stage == "intake"


def test_it_refuses_an_action_the_stage_does_not_allow(cast, api_as):
    response = api_as("facilitator").post(f"/cases/{cast.case.reference}/transitions", {"action": "resume"})
    assert response.status_code == 409
    assert "referral stage" in response.json()["detail"]
    assert not AuditEvent.objects.filter(case=cast.case, code="case.stage_changed").exists()


def test_it_closes_a_case_with_a_reason(cast, api_as):
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/transitions",
        {"action": "close", "closure_reason": "referred_elsewhere"},
    )
    assert response.status_code == 200
    assert response.json()["stage"] == "closed"
    event = AuditEvent.objects.filter(case=cast.case, code="case.stage_changed").get()
    assert event.payload["reason"] == "referred_elsewhere"


@pytest.mark.parametrize("reason", ["", "bored"])
def test_it_asks_why_a_case_is_closing(cast, api_as, reason):
    response = api_as("facilitator").post(
        f"/cases/{cast.case.reference}/transitions", {"action": "close", "closure_reason": reason}
    )
    assert response.status_code == 422
    assert "closure_reason" in response.json()["detail"]
    assert "agreement_completed" in response.json()["detail"]
    cast.case.refresh_from_db()
    assert cast.case.stage == "referral"


@pytest.mark.parametrize("body", [{"action": "fly"}, {}, {"action": 3}])
def test_it_names_the_actions_to_choose_from(cast, api_as, body):
    response = api_as("facilitator").post(f"/cases/{cast.case.reference}/transitions", body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Please fix: action:")


@pytest.mark.parametrize("who", ["other_facilitator_same_program", "other_program_facilitator", "volunteer"])
def test_it_answers_404_to_staff_outside_the_case_who_try_to_move_it(cast, api_as, who):
    response = api_as(who).post(f"/cases/{cast.case.reference}/transitions", {"action": "pause"})
    assert response.status_code == 404
    cast.case.refresh_from_db()
    assert cast.case.stage == "referral"


def test_it_asks_for_a_body_when_there_is_none(cast, api_as):
    response = api_as("coordinator").client.post("/api/v1/cases", "", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"] == "Please fix: body: Field required"


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "/cases"), ("delete", "/programs"), ("get", "/cases/C-AAAA-AAAA/transitions")],
)
def test_it_names_the_methods_a_route_takes(cast, api_as, method, path):
    response = getattr(api_as("coordinator").client, method)("/api/v1" + path)
    assert response.status_code == 405
    assert response.json()["detail"].startswith(f"This address does not take {method.upper()}. Use ")
    assert response["Allow"]
