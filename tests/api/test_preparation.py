"""The consent issue's staff operations in the API: readiness, sessions, assessments, declarations."""

from datetime import timedelta

from django.utils import timezone

from mend.meetings.models import Meeting
from tests.api.conftest import ApiCaller, token_for
from tests.builders import prepare_for_encounter


def _url(cast, rest):
    return f"/cases/{cast.case.reference}/{rest}"


def api_client(user) -> ApiCaller:
    return ApiCaller(token_for(user))


def _dialogue(cast):
    facilitator_place = cast.case.participants.get(user=cast.facilitator)
    return {
        "kind": "dialogue",
        "format": "video",
        "time_zone": "Pacific/Auckland",
        "starts_at": (timezone.now() + timedelta(days=3)).isoformat(),
        "attendee_ids": [facilitator_place.pk, cast.harmed.pk, cast.responsible.pk],
    }


def test_it_lists_what_the_encounter_waits_for(cast):
    response = api_client(cast.facilitator).get(_url(cast, "readiness"))
    assert response.status_code == 200
    assert "safety plan for the person harmed (Wren)" in response.json()["missing"]


def test_it_refuses_a_session_with_the_reason_and_writes_nothing(cast):
    response = api_client(cast.facilitator).post(_url(cast, "sessions"), _dialogue(cast))
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Waiting for: ")
    assert not Meeting.objects.exists()


def test_it_schedules_and_cancels_a_session_when_everything_holds(cast):
    prepare_for_encounter(cast)
    client = api_client(cast.facilitator)
    created = client.post(_url(cast, "sessions"), _dialogue(cast))
    assert created.status_code == 201, created.json()
    session_id = created.json()["id"]
    assert client.get(_url(cast, "sessions")).json()[0]["status"] == "scheduled"
    assert client.post(_url(cast, f"sessions/{session_id}/cancel")).json()["status"] == "cancelled"
    again = client.post(_url(cast, f"sessions/{session_id}/cancel"))
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_it_keeps_people_of_other_cases_out_of_a_session(cast):
    prepare_for_encounter(cast)
    body = _dialogue(cast)
    body["attendee_ids"].append(cast.outsider.participations.get().pk)
    response = api_client(cast.facilitator).post(_url(cast, "sessions"), body)
    assert response.status_code == 404
    assert not Meeting.objects.exists()


def test_it_signs_off_an_assessment_only_for_the_case_facilitators(cast):
    body = {"outcome": "not_yet", "answers": {"motivation": "Not sure yet."}}
    missing_date = api_client(cast.facilitator).post(_url(cast, f"people/{cast.harmed.pk}/assessments"), body)
    assert missing_date.status_code == 400 and "date to assess again" in missing_date.json()["detail"]
    body["reassess_on"] = (timezone.localdate() + timedelta(days=10)).isoformat()
    assert (
        api_client(cast.coordinator)
        .post(_url(cast, f"people/{cast.harmed.pk}/assessments"), body)
        .status_code
        == 404
    )
    done = api_client(cast.facilitator).post(_url(cast, f"people/{cast.harmed.pk}/assessments"), body)
    assert done.status_code == 201 and done.json()["outcome"] == "not_yet"


def test_it_confirms_an_acknowledgment_only_once_there_is_one(cast):
    response = api_client(cast.facilitator).post(
        _url(cast, f"people/{cast.responsible.pk}/acknowledgment/confirm")
    )
    assert response.status_code == 409 and "has not written an acknowledgment" in response.json()["detail"]


def test_inv_neutrality_a_declaration_through_the_api(cast):
    client = api_client(cast.facilitator)
    vague = client.post(_url(cast, "conflict-declarations"), {"has_conflict": True})
    assert vague.status_code == 400 and "Say briefly" in vague.json()["detail"]
    done = client.post(_url(cast, "conflict-declarations"), {"has_conflict": True, "details": "A cousin."})
    assert done.status_code == 201
    assert client.get(_url(cast, "readiness")).status_code == 404
