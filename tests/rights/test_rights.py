"""Data rights: a person's deletion request, and the retention period. Both end with the case's records
crypto-shredded; nothing readable is left but audit events that name nothing."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mend.accounts.models import KeyBundle, User
from mend.audit.models import AuditEvent
from mend.cases import services as case_services
from mend.cases.models import Case, Participant
from mend.consent.models import Consent
from mend.core.errors import Conflict, DomainError
from mend.dialogue.models import Attachment, Conversation, Message
from mend.keystore import services as keystore
from mend.keystore.models import DataKey
from mend.rights import services as rights
from mend.rights.tasks import TASK_PATH, retention_schedule
from tests.builders import make_program, make_staff
from tests.keystore.helpers import SECRETS, fill_every_sealed_field

Kind = Conversation.Kind
DELETED = "This information was deleted."


def messages_in(cast, kind, party=None) -> int:
    return Message.objects.filter(
        conversation__case=cast.case, conversation__kind=kind, conversation__party=party
    ).count()


def test_inv_right_to_leave_a_person_deletes_their_information_in_one_step(talked):
    cast = talked
    user = cast.harmed.user
    assert (
        messages_in(cast, Kind.SUPPORT, cast.harmed) == 2 and messages_in(cast, Kind.RELAY, cast.harmed) == 1
    )

    rights.participant_data_delete(actor=user, place=cast.harmed)

    place = Participant.objects.get(pk=cast.harmed.pk)
    assert place.removed_at and place.deletion_requested_at
    assert (place.pseudonym, place.contact_method, place.accessibility_needs) == ("", "", "")
    assert not Consent.objects.filter(participant=place, withdrawn_at__isnull=True).exists()
    assert Case.objects.get(pk=cast.case.pk).stage == "paused", "the others are told only that it paused"
    user.refresh_from_db()
    assert not user.is_active and user.display_name == "" and not user.has_usable_password()
    assert not KeyBundle.objects.filter(user=user).exists()
    # Their own conversations and everything they wrote are gone; the others' words elsewhere stay.
    assert (
        messages_in(cast, Kind.SUPPORT, cast.harmed) == 0 and messages_in(cast, Kind.RELAY, cast.harmed) == 0
    )
    assert not Attachment.objects.exists()
    assert messages_in(cast, Kind.RELAY, cast.responsible) == 1 and messages_in(cast, Kind.TEAM) == 1
    event = AuditEvent.objects.get(code="participant.data_deleted")
    assert event.payload == {"role": "harmed_party", "messages": 3, "files": 1}
    # The case goes on for the others, so the records its facilitators keep stay, sealed.
    assert not keystore.case_keys_destroyed(cast.case.pk)
    assert Case.objects.get(pk=cast.case.pk).intake_notes == SECRETS[("cases_case", "intake_notes")]


def test_inv_right_to_leave_the_case_is_shredded_once_every_party_has_asked(talked):
    cast = talked
    rights.participant_data_delete(actor=cast.harmed.user, place=cast.harmed)
    assert not keystore.case_keys_destroyed(cast.case.pk)
    rights.participant_data_delete(actor=cast.responsible.user, place=cast.responsible)
    assert keystore.case_keys_destroyed(cast.case.pk)
    case = Case.objects.get(pk=cast.case.pk)
    assert case.data_deleted_at is not None
    assert case.intake_notes == DELETED and case.referral_details == DELETED
    assert not Message.objects.filter(conversation__case=case).exists()
    assert set(case.participants.values_list("pseudonym", flat=True)) == {""}
    supporter = Participant.objects.get(pk=cast.supporter.pk)
    assert supporter.removed_at is not None and not User.objects.get(pk=supporter.user_id).is_active
    facilitator_place = case.participants.get(user=cast.facilitator)
    assert facilitator_place.removed_at is None, "staff still see that the case was, and what became of it"
    assert AuditEvent.objects.get(code="case.data_deleted").payload["reason"] == "every_party_asked"
    call_command("audit", "verify", stdout=StringIO())


def test_inv_right_to_leave_a_closed_case_is_shredded_at_the_first_request(cast):
    fill_every_sealed_field(cast)
    case_services.case_transition(
        actor=cast.coordinator, case=cast.case, action="close", closure_reason="other"
    )
    rights.participant_data_delete(actor=cast.responsible.user, place=cast.responsible)
    assert keystore.case_keys_destroyed(cast.case.pk)
    assert AuditEvent.objects.get(code="case.data_deleted").payload["reason"] == "closed_case_request"


def test_inv_right_to_leave_closing_a_case_shreds_it_when_someone_had_asked(cast):
    fill_every_sealed_field(cast)
    rights.participant_data_delete(actor=cast.supporter.user, place=cast.supporter)
    assert not keystore.case_keys_destroyed(cast.case.pk)
    case_services.case_transition(
        actor=cast.coordinator, case=cast.case, action="close", closure_reason="other"
    )
    assert keystore.case_keys_destroyed(cast.case.pk)
    assert Case.objects.get(pk=cast.case.pk).intake_notes == DELETED


def test_it_lets_only_the_person_themselves_ask_and_only_once(cast):
    with pytest.raises(DomainError, match="Only the person themselves"):
        rights.participant_data_delete(actor=cast.facilitator, place=cast.harmed)
    with pytest.raises(DomainError, match="Only the person themselves"):
        rights.participant_data_delete(actor=cast.responsible.user, place=cast.harmed)
    facilitator_place = cast.case.participants.get(user=cast.facilitator)
    with pytest.raises(DomainError, match="Only the person themselves"):
        rights.participant_data_delete(actor=cast.facilitator, place=facilitator_place)
    rights.participant_data_delete(actor=cast.harmed.user, place=cast.harmed)
    with pytest.raises(Conflict, match="already been deleted"):
        rights.participant_data_delete(
            actor=cast.harmed.user, place=Participant.objects.get(pk=cast.harmed.pk)
        )


# Retention ---------------------------------------------------------------------------------------------


def closed(cast, days_ago: int, **kwargs) -> Case:
    case = case_services.case_create(
        actor=cast.coordinator, program=kwargs.get("program", cast.program), harm_category="fraud",
        jurisdictions=["NZ"], referral_source="self", intake_notes="Closed long ago.",
    )  # fmt: skip
    if kwargs.get("close", True):
        case_services.case_transition(
            actor=cast.coordinator, case=case, action="close", closure_reason="other"
        )
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
    return case


def test_inv_right_to_leave_retention_shreds_closed_cases_past_their_programs_period(cast):
    cast.program.retention_days = 30
    cast.program.save(update_fields=["retention_days"])
    expired = closed(cast, 31)
    recent = closed(cast, 29)
    still_open = closed(cast, 400, close=False)
    elsewhere = closed(cast, 31, program=cast.other_program)  # that program keeps records for 7 years

    assert rights.retention_expire() == 1
    assert keystore.case_keys_destroyed(expired.pk)
    assert Case.objects.get(pk=expired.pk).intake_notes == DELETED
    for kept in (recent, still_open, elsewhere):
        assert Case.objects.get(pk=kept.pk).intake_notes == "Closed long ago."
    assert AuditEvent.objects.get(code="case.data_deleted").payload == {
        "reason": "retention", "messages": 0, "files": 0,
    }  # fmt: skip
    assert rights.retention_expire() == 0, "a shredded case is not shredded again"
    out = StringIO()
    call_command("keys", "retention", stdout=out)
    assert out.getvalue().startswith("0 cases")


@pytest.mark.django_db(transaction=True)
def test_it_runs_retention_as_a_daily_job_that_books_its_next_run():
    # A real transaction: the worker closes and reopens connections between jobs, as in production.
    program = make_program()
    program.retention_days = 1
    program.save(update_fields=["retention_days"])
    coordinator = make_staff(program, "coordinator", "coord@riverbend.test", "Cole Coordinator")
    case = case_services.case_create(
        actor=coordinator, program=program, harm_category="fraud", jurisdictions=["NZ"],
        referral_source="self", intake_notes="Old notes.",
    )  # fmt: skip
    case_services.case_transition(actor=coordinator, case=case, action="close", closure_reason="other")
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now() - timedelta(days=2))

    assert retention_schedule() and not retention_schedule(), "one run waits in the queue, not two"
    call_command("worker", batch=True, verbosity=0)
    done = DBTaskResult.objects.filter(task_path=TASK_PATH, status="SUCCESSFUL").get()
    assert done.return_value == 1
    assert DataKey.objects.get(case_id=case.pk).destroyed_at is not None
    following = DBTaskResult.objects.get(task_path=TASK_PATH, status="READY")
    assert timedelta(hours=23) < following.run_after - timezone.now() <= timedelta(days=1)


# The page ----------------------------------------------------------------------------------------------

pytestmark = pytest.mark.urls("tests.rights.urls")


def page(cast) -> str:
    return f"/cases/{cast.case.reference}/delete-my-information/"


def test_it_explains_calmly_what_deletion_does_before_anything_happens(cast):
    response = cast.client("harmed").get(page(cast))
    assert response.status_code == 200
    body = response.content.decode()
    assert "You do not need to give a reason" in body and "take a break" in body
    assert 'name="confirm"' in body and "Leave this site quickly" in body


def test_it_asks_for_the_confirmation_and_deletes_nothing_without_it(cast):
    before = AuditEvent.objects.count()
    response = cast.client("harmed").post(page(cast), {"confirm": ""})
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="id_confirm_error">(.*?)</p>', response.content.decode()).group(1)
    assert error == "Tick the box if you want your information deleted. Nothing has been deleted."
    assert Participant.objects.get(pk=cast.harmed.pk).deletion_requested_at is None
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["harmed", "responsible", "supporter"])
def test_it_lets_everyone_taking_part_delete_their_information(cast, who):
    client = cast.client(who)
    assert client.get(page(cast)).status_code == 200
    assert client.post(page(cast), {"confirm": "on"}).status_code == 200
    assert Participant.objects.get(pk=getattr(cast, who).pk).deletion_requested_at is not None


def test_it_deletes_and_signs_the_person_out(cast):
    client = cast.client("harmed")
    response = client.post(page(cast), {"confirm": "on"})
    assert response.status_code == 200
    assert "Your information is deleted" in response.content.decode()
    assert Participant.objects.get(pk=cast.harmed.pk).deletion_requested_at is not None
    assert client.get(f"/cases/{cast.case.reference}/").status_code == 302, "signed out"
    again = cast.client("harmed").get(page(cast))
    assert again.status_code == 302 and "/account/sign-in/" in again["Location"], "the account is closed"


@pytest.mark.parametrize(
    "who", ["facilitator", "coordinator", "admin", "outsider", "other_program_facilitator"]
)
def test_it_is_not_found_for_anyone_but_the_people_taking_part(cast, who):
    assert cast.client(who).get(page(cast)).status_code == 404
    assert cast.client(who).post(page(cast), {"confirm": "on"}).status_code == 404
    assert Participant.objects.filter(deletion_requested_at__isnull=False).count() == 0


def test_it_sends_someone_signed_out_to_sign_in(cast):
    response = Client().get(page(cast))
    assert response.status_code == 302 and "/account/sign-in/" in response["Location"]
