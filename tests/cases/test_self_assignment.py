"""Staff who oversee a program cannot join a case's team, and so its conversations, on their own say:
another staff member who runs the case approves it on the case page, and the people in the case are told
who joined. Assigning someone else stays one step."""

import pytest

from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import AssignmentRequest, Notice, Participant
from mend.core.errors import DomainError
from mend.dialogue import rules
from mend.dialogue import services as dialogue_services

pytestmark = pytest.mark.django_db


def _place(cast, user):
    return Participant.objects.filter(case=cast.case, user=user, removed_at__isnull=True).first()


def _ask(cast, who="coordinator", role="co_facilitator"):
    client = cast.client(who)
    user = getattr(cast, who)
    response = client.post(
        f"/cases/{cast.case.reference}/assign/", {"assign-facilitator": user.pk, "assign-role": role}
    )
    return client, response


def _reader_ids(cast) -> set[int]:
    conversation = dialogue_services.conversation_open(case=cast.case, kind="support", party=cast.harmed)
    return {p.user_id for p in rules.readers(conversation)}


def test_it_does_not_let_a_coordinator_join_a_case_by_assigning_themselves(cast):
    _client, response = _ask(cast)
    assert response.status_code == 302
    assert _place(cast, cast.coordinator) is None
    assert cast.coordinator.pk not in _reader_ids(cast)
    request = AssignmentRequest.objects.get(case=cast.case)
    assert (request.requested_by, request.outcome, request.role) == (
        cast.coordinator,
        "pending",
        "co_facilitator",
    )
    assert AuditEvent.objects.filter(code="case.assignment_requested", actor=cast.coordinator).exists()


def test_it_refuses_self_assignment_in_the_service_too(cast):
    with pytest.raises(case_services.NeedsApproval):
        case_services.facilitator_assign(actor=cast.admin, case=cast.case, user=cast.admin)
    assert _place(cast, cast.admin) is None


def test_it_shows_the_request_to_colleagues_with_approve_and_to_the_requester_without(cast):
    _ask(cast)
    mine = cast.client("coordinator").get(f"/cases/{cast.case.reference}/").content.decode()
    theirs = cast.client("facilitator").get(f"/cases/{cast.case.reference}/").content.decode()
    assert "Cole Coordinator asks to join this case" in mine and "Cole Coordinator asks to join" in theirs
    assert 'value="approve"' not in mine
    assert 'value="approve"' in theirs


def test_it_does_not_let_the_requester_approve_their_own_request(cast):
    client, _response = _ask(cast)
    request = AssignmentRequest.objects.get(case=cast.case)
    response = client.post(
        f"/cases/{cast.case.reference}/assignment-requests/{request.pk}/", {"decision": "approve"}
    )
    assert response.status_code == 400
    assert _place(cast, cast.coordinator) is None
    with pytest.raises(DomainError):
        case_services.assignment_request_decide(actor=cast.coordinator, request=request, approve=True)


@pytest.mark.parametrize(
    "who", ["other_facilitator_same_program", "volunteer", "other_program_facilitator", "harmed"]
)
def test_it_answers_staff_who_do_not_run_the_case_with_a_404(cast, who):
    _ask(cast)
    request = AssignmentRequest.objects.get(case=cast.case)
    response = cast.client(who).post(
        f"/cases/{cast.case.reference}/assignment-requests/{request.pk}/", {"decision": "approve"}
    )
    assert response.status_code == 404
    assert _place(cast, cast.coordinator) is None


def test_it_adds_them_once_a_colleague_approves_and_tells_the_people_in_the_case(cast):
    _ask(cast)
    request = AssignmentRequest.objects.get(case=cast.case)
    response = cast.client("facilitator").post(
        f"/cases/{cast.case.reference}/assignment-requests/{request.pk}/", {"decision": "approve"}
    )
    assert response.status_code == 302
    place = _place(cast, cast.coordinator)
    assert place is not None and place.role == "co_facilitator"
    assert cast.coordinator.pk in _reader_ids(cast)
    told = set(Notice.objects.filter(kind="team_joined", about=place).values_list("recipient_id", flat=True))
    assert {cast.harmed.pk, cast.responsible.pk, cast.supporter.pk} <= told
    assert place.pk not in told
    request.refresh_from_db()
    assert (request.outcome, request.decided_by) == ("approved", cast.facilitator)
    page = cast.client("harmed").get(f"/cases/{cast.case.reference}/").content.decode()
    assert "<bdi>Cole Coordinator</bdi> has joined the facilitators of this process" in page
    event = AuditEvent.objects.get(code="case.facilitator_assigned", target_id=str(place.pk))
    assert event.actor_id == cast.facilitator.pk


@pytest.mark.parametrize(("who", "outcome"), [("facilitator", "declined"), ("coordinator", "withdrawn")])
def test_it_closes_a_request_declined_by_a_colleague_or_withdrawn_by_the_requester(cast, who, outcome):
    _ask(cast)
    request = AssignmentRequest.objects.get(case=cast.case)
    response = cast.client(who).post(
        f"/cases/{cast.case.reference}/assignment-requests/{request.pk}/", {"decision": "decline"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.outcome == outcome
    assert _place(cast, cast.coordinator) is None
    assert not Notice.objects.filter(kind="team_joined").exists()


def test_it_keeps_one_request_waiting_per_person(cast):
    _ask(cast)
    _client, again = _ask(cast)
    assert again.status_code == 409
    assert AssignmentRequest.objects.filter(case=cast.case).count() == 1


def test_it_still_assigns_someone_else_at_once_without_telling_the_parties(cast):
    response = cast.client("coordinator").post(
        f"/cases/{cast.case.reference}/assign/",
        {"assign-facilitator": cast.other_facilitator_same_program.pk, "assign-role": "co_facilitator"},
    )
    assert response.status_code == 302
    assert _place(cast, cast.other_facilitator_same_program) is not None
    assert not AssignmentRequest.objects.exists()


def test_it_lets_whoever_opens_a_case_take_it_on_at_once(cast):
    case = case_services.case_create(
        actor=cast.coordinator,
        program=cast.program,
        harm_category="fraud",
        jurisdictions=["NZ"],
        referral_source="self",
        facilitator=cast.coordinator,
    )
    assert Participant.objects.filter(case=case, user=cast.coordinator, removed_at__isnull=True).exists()
